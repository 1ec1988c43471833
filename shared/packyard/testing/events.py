"""Events as their publishers put them on the bus, built from the contract.

``tests/contracts/events.yaml`` holds one realistic ``data`` per event type, which its
publisher's schema accepts and every consumer's schema loads (``tests/contracts``). The
builders here start from that example, so a consumer's tests receive what is really
published, and a test names only what matters to it:

* :class:`EventFactory` builds any event of the contract: ``factory.event("identity.user.registered",
  username="bob")``, or the same through a method generated from the type's name,
  ``factory.identity.user_registered(username="bob")``;
* :class:`IdentityEvents` is identity's events with the short signatures the consumers' tests
  use (``identity.registered("bob")``, ``identity.email_changed("bob", new, old)``).

A name a test gives stands for what identity derives from it, unless the test gives that too:
a ``username`` its ``user_id`` (:func:`user_id`), address and display name; an organization's
``name`` (or ``org``) its ``org_id`` (:func:`org_id`); an ``owner`` its ``owner_id``. A value
given for a field the contract carries sealed (``token`` for ``token_ciphertext``) is sealed
with the factory's ``mail_key``, as identity seals it with ``MAIL_TOKEN_KEY``.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from packyard.events import CloudEvent
from packyard.testing import publish_event

__all__ = ["CONTRACT", "EventFactory", "IdentityEvents", "org_id", "user_id"]

CONTRACT = Path(__file__).resolve().parents[3] / "tests" / "contracts" / "events.yaml"


def user_id(username: str) -> str:
    """The id the builders give the user ``username`` (the same in every service's tests)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, username))


def org_id(name: str) -> str:
    """The id the builders give the organization ``name``."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, name))


# field a test names -> {field derived from it: how}; a derived field is filled only where the
# contract's example carries it and the test did not give it.
_DERIVED: dict[str, dict[str, Callable[[str], str]]] = {
    "username": {"user_id": user_id, "email": lambda name: f"{name}@example.com", "full_name": str.title},
    "name": {"org_id": org_id, "full_name": str.title},
    "org": {"org_id": org_id},
    "owner": {"owner_id": user_id},
}
_SEALED = "_ciphertext"


class EventFactory:
    """CloudEvents of every type in the contract (published and planned), data from its example."""

    def __init__(self, contract: Path = CONTRACT, *, mail_key: str | None = None) -> None:
        self.contract = contract
        self.mail_key = mail_key

    @cached_property
    def examples(self) -> dict[str, dict[str, Any]]:
        import yaml

        document = yaml.safe_load(self.contract.read_text())
        return {**(document.get("planned") or {}), **document["published"]}

    def data(self, type_: str, **values: Any) -> dict[str, Any]:
        """The contract's example of ``type_`` with ``values`` (and what they imply) in place."""
        if type_ not in self.examples:
            raise KeyError(f"{type_} is not in the contract ({self.contract})")
        example = self.examples[type_]
        data = copy.deepcopy(example)
        for name in list(values):
            if name not in example and f"{name}{_SEALED}" in example:
                data[f"{name}{_SEALED}"] = self._seal(values.pop(name))
        data.update(values)
        for source, derived in _DERIVED.items():
            if source in example and isinstance(data.get(source), str):
                for name, derive in derived.items():
                    if name in example and name not in values:
                        data[name] = derive(data[source])
        return data

    def event(self, type_: str, *, event_id: str | None = None, time: str | None = None,
              subject: str | None = None, **values: Any) -> CloudEvent:
        """``type_`` from its publisher (``/<service>``), carrying :meth:`data`."""
        data = self.data(type_, **values)
        extra: dict[str, Any] = {}
        if event_id:
            extra["id"] = event_id
        if time:
            extra["time"] = time
        return CloudEvent(type=type_, source="/" + type_.split(".", 1)[0], data=data,
                          subject=subject if subject is not None else data.get("username"), **extra)

    def __getattr__(self, publisher: str) -> _Publisher:
        if publisher.startswith("_"):
            raise AttributeError(publisher)
        return _Publisher(self, publisher)

    def _seal(self, secret: str) -> str:
        if self.mail_key is None:
            raise ValueError("this EventFactory has no mail_key to seal secrets with")
        from packyard.sealing import Sealer

        return Sealer(self.mail_key).seal(secret)


class _Publisher:
    """``factory.identity.user_registered(**values)`` for ``identity.user.registered``."""

    def __init__(self, factory: EventFactory, service: str) -> None:
        self._factory, self._service = factory, service

    def __getattr__(self, name: str) -> Callable[..., CloudEvent]:
        types = [t for t in self._factory.examples
                 if t.startswith(f"{self._service}.") and t[len(self._service) + 1:].replace(".", "_") == name]
        if not types:
            raise AttributeError(f"the contract has no {self._service} event {name!r}")
        type_ = types[0]

        def build(**values: Any) -> CloudEvent:
            return self._factory.event(type_, **values)

        build.__name__, build.__doc__ = name, f"``{type_}`` (see :meth:`EventFactory.event`)."
        return build


def _shortcut(type_: str, *positional: str, **defaults: Any) -> Callable[..., CloudEvent]:
    def build(self: IdentityEvents, *args: Any, event_id: str | None = None, time: str | None = None,
              **values: Any) -> CloudEvent:
        given = {**defaults, **dict(zip(positional, args, strict=False)), **values}
        return self.factory.event(type_, event_id=event_id, time=time, **given)

    build.__doc__ = f"``{type_}`` for ``{', '.join(positional)}``; any other field may be given by name."
    return build


class IdentityEvents:
    """Identity's events as social, the notifier and signing receive them."""

    user_id = staticmethod(user_id)
    org_id = staticmethod(org_id)
    publish = staticmethod(publish_event)  # publish(amqp_url, event): to identity.events, as its relay does

    registered = _shortcut("identity.user.registered", "username")
    deleted = _shortcut("identity.user.deleted", "username")
    email_changed = _shortcut("identity.user.email_changed", "username", "email", "previous_email")
    preferences_changed = _shortcut("identity.user.preferences_changed", "username", "revision")
    # far in the future, so the link is still valid whenever the test runs
    password_reset_requested = _shortcut("identity.user.password_reset_requested", "username", "token",
                                         expires_at="2999-01-01T00:00:00.000Z")
    api_key_issued = _shortcut("identity.api_key.issued", "username", "api_key")
    api_key_revoked = _shortcut("identity.api_key.revoked", "username")
    org_created = _shortcut("identity.org.created", "name")
    org_deleted = _shortcut("identity.org.deleted", "name")

    def __init__(self, factory: EventFactory | None = None, *, mail_key: str | None = None) -> None:
        self.factory = factory or EventFactory(mail_key=mail_key)

    @staticmethod
    def event(type_: str, data: dict[str, Any], event_id: str | None = None, time: str | None = None) -> CloudEvent:
        """An identity event carrying exactly ``data`` (to send what the contract would not allow)."""
        extra: dict[str, Any] = {"id": event_id} if event_id else {}
        if time:
            extra["time"] = time
        return CloudEvent(type=type_, source="/identity", data=data, subject=data.get("username"), **extra)

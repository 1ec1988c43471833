"""Typed settings read from the environment.

A service declares its settings as a frozen dataclass whose fields are built with
:func:`env`::

    @dataclass(frozen=True)
    class Settings:
        database_url: str = env("DATABASE_URL")
        amqp_url: str = env("AMQP_URL", default="amqp://guest:guest@127.0.0.1:5672/%2F")
        prefetch: int = env("PREFETCH", default=20)
        api_key_secret: str = env("API_KEY_SECRET", secret=True)

    settings = load_settings(Settings)           # reads os.environ

Guarantees:

* every variable is read once, when :func:`load_settings` is called — never at import time;
* a required variable (one without a default) that is missing or empty raises
  :class:`ConfigError` whose message names the variable, so an entry point can stop at
  start with that message (:func:`exit_on_config_error` does exactly that);
* values are converted to the field's annotated type (``str``, ``int``, ``float``,
  ``bool``, ``tuple[str, ...]`` from a comma-separated list), and a value that does not
  convert is a :class:`ConfigError` naming the variable and the expected type;
* secrets (``secret=True``) never have defaults here (``default=None`` marks an optional
  one, such as an SMTP password), are refused when they look like a placeholder
  (``changeme``, ``secret``, …) and are masked by :func:`describe`.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = [
    "ConfigError",
    "env",
    "load_settings",
    "describe",
    "required_variables",
    "variables",
    "exit_on_config_error",
]

T = TypeVar("T")

_MISSING = dataclasses.MISSING
_PLACEHOLDERS = {"changeme", "change-me", "changethis", "secret", "password", "xxx", "todo"}


class ConfigError(Exception):
    """A required setting is missing or a value cannot be used. The message names the variable."""


@dataclasses.dataclass(frozen=True)
class _Var:
    name: str
    default: Any
    secret: bool
    help: str


def env(name: str, *, default: Any = _MISSING, secret: bool = False, help: str = "") -> Any:
    """Declare a dataclass field read from the environment variable ``name``.

    Without ``default`` the variable is required. ``secret=True`` variables may not have a
    default: a secret must come from the deployment, never from code.
    """
    if secret and default not in (_MISSING, None):
        raise TypeError(f"secret setting {name} cannot have a default (None marks it optional)")
    meta = {"packyard_env": _Var(name, default, secret, help)}
    if default is _MISSING:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _convert(raw: str, annotation: Any, name: str) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:  # Optional[X] or X | None
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _convert(raw, args[0], name)
    if annotation is str or annotation is Any:
        return raw
    if annotation is bool:
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{name} must be a boolean (true/false), got {raw!r}")
    if annotation in (int, float):
        try:
            return annotation(raw)
        except ValueError:
            kind = "an integer" if annotation is int else "a number"
            raise ConfigError(f"{name} must be {kind}, got {raw!r}") from None
    if origin is tuple:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    raise TypeError(f"unsupported settings type {annotation!r} for {name}")


def _fields(cls: type) -> list[tuple[dataclasses.Field, _Var]]:
    out = []
    for field in dataclasses.fields(cls):
        var = field.metadata.get("packyard_env")
        if var is not None:
            out.append((field, var))
    return out


def load_settings(cls: type[T], environ: Mapping[str, str] | None = None) -> T:
    """Build ``cls`` from ``environ`` (default ``os.environ``); raise :class:`ConfigError`.

    All problems are collected so that one start-up failure names every missing variable.
    """
    environ = os.environ if environ is None else environ
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    problems: list[str] = []
    for field, var in _fields(cls):
        raw = environ.get(var.name)
        if raw is None or raw == "":
            if var.default is _MISSING:
                problems.append(f"missing required environment variable {var.name}"
                                + (f" ({var.help})" if var.help else ""))
                continue
            values[field.name] = var.default
            continue
        if var.secret and raw.strip().lower() in _PLACEHOLDERS:
            problems.append(f"environment variable {var.name} holds a placeholder value; set a real secret")
            continue
        try:
            values[field.name] = _convert(raw, hints[field.name], var.name)
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("; ".join(problems))
    return cls(**values)


def variables(cls: type) -> dict[str, bool]:
    """Map every environment variable ``cls`` reads to whether it is required."""
    return {var.name: var.default is _MISSING for _, var in _fields(cls)}


def required_variables(cls: type) -> set[str]:
    """The environment variables ``cls`` cannot start without."""
    return {name for name, required in variables(cls).items() if required}


def describe(settings: Any) -> dict[str, Any]:
    """The settings as a dict keyed by variable name, secrets masked (for start-up logs)."""
    out = {}
    for field, var in _fields(type(settings)):
        value = getattr(settings, field.name)
        out[var.name] = "***" if var.secret else value
    return out


def exit_on_config_error(build: Callable[[], T]) -> T:
    """Run ``build`` and, on :class:`ConfigError`, stop the process with the message.

    Entry points (api, worker, relay, commands) wrap their settings loading in this so a
    misconfigured process fails at start with one clear line and exit status 2.
    """
    try:
        return build()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None

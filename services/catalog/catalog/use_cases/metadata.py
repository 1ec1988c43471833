"""Attributes, readme and release notes of packages and versions (``publish`` to change them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from catalog.models import Package, Version
from catalog.use_cases.access import FOR_CHANGE, PUBLISH
from catalog.use_cases.versions import Located, locate
from packyard.auth import Principal
from packyard.db import UnitOfWork
from packyard.errors import Invalid

ATTRIBUTE_TYPES = ("string", "date", "number", "boolean", "version")


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


def _check_attribute(attribute: dict[str, Any]) -> dict[str, Any]:
    name, values = attribute["name"], attribute.get("values")
    values = [] if values is None else list(values)
    for value in values:
        if value is None or isinstance(value, (dict, list)):
            raise Invalid(f"Attribute '{name}': values must be strings, numbers or booleans")
    kinds = {_type_of(v) for v in values}
    if len(kinds) > 1:
        raise Invalid(f"Attribute '{name}': all values must have the same type")
    declared = attribute.get("type")
    if declared is None:
        declared = kinds.pop() if kinds else "string"
    if declared not in ATTRIBUTE_TYPES:
        raise Invalid(f"Attribute '{name}': type must be one of {', '.join(ATTRIBUTE_TYPES)}")
    for value in values:
        if declared == "number" and _type_of(value) != "number":
            raise Invalid(f"Attribute '{name}': '{value}' is not a number")
        if declared == "boolean" and not isinstance(value, bool):
            raise Invalid(f"Attribute '{name}': '{value}' is not a boolean")
        if declared in ("string", "version") and not isinstance(value, str):
            raise Invalid(f"Attribute '{name}': {value!r} is not a string")
        if declared == "date":
            try:
                datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                raise Invalid(f"Attribute '{name}': '{value}' is not an ISO 8601 date") from None
    return {"name": name, "values": values, "type": declared}


def _target(found: Located) -> Package | Version:
    return found.version if found.version is not None else found.package


def set_attributes(uow: UnitOfWork, actor: Principal, owner: str, repo: str, package: str, version: str | None,
                   attributes: list[dict[str, Any]], *, replace: bool, now: datetime) -> list[dict[str, Any]]:
    """Replace all attributes (``replace``) or update the ones named; return the resulting list."""
    target = _target(locate(uow.session, actor, owner, repo, package, version, PUBLISH,
                            action="change attributes", lock=FOR_CHANGE))
    checked = [_check_attribute(a) for a in attributes]
    names = [a["name"] for a in checked]
    if len(names) != len(set(names)):
        raise Invalid("An attribute is named twice")
    if replace:
        result = checked
    else:
        by_name = {a["name"]: a for a in (target.attributes or [])}
        by_name.update({a["name"]: a for a in checked})
        result = list(by_name.values())
    target.attributes = sorted(result, key=lambda a: a["name"])
    target.updated = now
    return target.attributes


def delete_attributes(uow: UnitOfWork, actor: Principal, owner: str, repo: str, package: str, version: str | None,
                      names: list[str] | None, now: datetime) -> None:
    """Remove the attributes named (all of them when ``names`` is empty)."""
    target = _target(locate(uow.session, actor, owner, repo, package, version, PUBLISH,
                            action="change attributes", lock=FOR_CHANGE))
    keep = [a for a in (target.attributes or []) if names and a["name"] not in names]
    target.attributes = keep
    target.updated = now


DOCUMENTS = ("readme", "release_notes")


def set_document(uow: UnitOfWork, actor: Principal, owner: str, repo: str, package: str, version: str | None,
                 field: str, document: dict[str, Any], now: datetime) -> tuple[Located, dict[str, Any]]:
    """Store a readme or release notes: ``{"bintray": {"syntax", "content"}}`` or ``{"github": {...}}``."""
    assert field in DOCUMENTS
    found = locate(uow.session, actor, owner, repo, package, version, PUBLISH, action="edit it", lock=FOR_CHANGE)
    target = _target(found)
    has_bintray, has_github = bool(document.get("bintray")), bool(document.get("github"))
    if has_bintray == has_github:
        raise Invalid("Give either 'bintray' (syntax and content) or 'github'")
    if has_bintray:
        stored = {"bintray": {"syntax": document["bintray"].get("syntax") or "markdown",
                              "content": document["bintray"]["content"]}}
    else:
        github = {k: v for k, v in document["github"].items() if v is not None}
        stored = {"github": github}
    setattr(target, field, stored)
    target.updated = now
    return found, stored


def delete_document(uow: UnitOfWork, actor: Principal, owner: str, repo: str, package: str, version: str | None,
                    field: str, now: datetime) -> None:
    assert field in DOCUMENTS
    target = _target(locate(uow.session, actor, owner, repo, package, version, PUBLISH, action="edit it",
                            lock=FOR_CHANGE))
    setattr(target, field, None)
    target.updated = now

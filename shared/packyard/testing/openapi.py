"""Every answer a test receives is checked against the service's own OpenAPI document.

The OpenAPI document of a service (``/openapi/<service>.json``, built by flask-smorest from the
``@blp.response`` and ``@blp.alt_response`` declarations) is what clients and the fuzzing read.
This check makes it the truth: while a test runs, every response of every in-process Flask app
that carries a flask-smorest ``Api`` — whichever test client made the request — is compared
with the operation it answered:

* the status is documented for that path and method (an error status may be covered by the
  operation's ``default`` response; a success or redirect status must be declared itself);
* a JSON body is described by a JSON schema of that status, and validates against it
  (``nullable``, ``additionalProperties: false`` of closed schemas and ``$ref`` included);
* a documented JSON answer is JSON (an empty body of a 204 or of a HEAD is fine).

Endpoints that are not part of the API (``/livez``, ``/readyz``, ``/metrics``, the OpenAPI
document itself, unmatched URLs) are not checked. Mismatches do not change the answer the test
sees: they are collected, and the test fails after its body ran, listing each of them.

Enable it in a service's suite with an autouse fixture in its ``conftest.py``::

    @pytest.fixture(autouse=True)
    def _answers_match_the_openapi_document(openapi_check):
        return openapi_check

``openapi_check.mismatches`` holds what was found so far (a test about the check itself may
read and clear it).
"""

from __future__ import annotations

import json
import re
import weakref
from dataclasses import dataclass, field
from typing import Any

import flask

__all__ = ["ResponseCheck", "openapi_to_json_schema"]

UNCHECKED_PATHS = ("/livez", "/readyz", "/metrics")
UNCHECKED_PREFIXES = ("/openapi/",)

_RULE_PARAMETER = re.compile(r"<(?:[^<>:]+:)?([^<>:]+)>")


def openapi_to_json_schema(schema: Any) -> Any:
    """An OpenAPI 3.0 schema object as JSON Schema (draft 4) for validating a response.

    ``nullable: true`` admits ``null``; a ``writeOnly`` property (a request's secret, e.g. a
    marshmallow ``load_only`` field) is not required in a response and must not appear in one.
    """
    if isinstance(schema, list):
        return [openapi_to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: openapi_to_json_schema(value) for key, value in schema.items()
                 if key not in ("nullable", "example", "examples", "readOnly", "writeOnly", "discriminator")}
    properties = schema.get("properties")
    if isinstance(properties, dict):
        write_only = [name for name, prop in properties.items() if isinstance(prop, dict) and prop.get("writeOnly")]
        for name in write_only:
            converted["properties"][name] = {"not": {}}
        if write_only and "required" in converted:
            converted["required"] = [name for name in converted["required"] if name not in write_only]
            if not converted["required"]:
                del converted["required"]
    if schema.get("nullable") is True:
        kind = converted.get("type")
        if isinstance(kind, str):
            converted["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            converted["type"] = [*kind, "null"]
        if "enum" in converted and None not in converted["enum"]:
            converted["enum"] = [*converted["enum"], None]
        if "$ref" in converted or "allOf" in converted or "oneOf" in converted or "anyOf" in converted:
            converted = {"anyOf": [{"type": "null"}, converted]}
    return converted


class _Document:
    """One app's OpenAPI document, its operations keyed by Flask rule, and compiled validators."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.components = openapi_to_json_schema(spec.get("components", {}))
        self._validators: dict[str, Any] = {}

    def operation(self, rule: str, method: str) -> dict[str, Any] | None:
        path = _RULE_PARAMETER.sub(r"{\1}", rule)
        item = self.spec.get("paths", {}).get(path)
        if item is None:
            return None
        return item.get(method.lower())

    def response(self, ref_or_response: dict[str, Any]) -> dict[str, Any]:
        ref = ref_or_response.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            return self.spec.get("components", {}).get("responses", {}).get(name, {})
        return ref_or_response

    def validator(self, schema: dict[str, Any]) -> Any:
        import jsonschema_rs

        key = json.dumps(schema, sort_keys=True)
        found = self._validators.get(key)
        if found is None:
            document = {"allOf": [openapi_to_json_schema(schema)], "components": self.components}
            found = jsonschema_rs.Draft4Validator(document)
            self._validators[key] = found
        return found


@dataclass
class ResponseCheck:
    """Collects the responses that disagree with their app's OpenAPI document."""

    mismatches: list[str] = field(default_factory=list)
    checked: int = 0
    _documents: weakref.WeakKeyDictionary[flask.Flask, _Document | None] = field(
        default_factory=weakref.WeakKeyDictionary)

    # -- wiring ---------------------------------------------------------------------------------
    def start(self) -> None:
        flask.request_finished.connect(self._on_response)

    def stop(self) -> None:
        flask.request_finished.disconnect(self._on_response)

    def _on_response(self, sender: flask.Flask, response: flask.Response, **_extra: Any) -> None:
        try:
            problem = self.check(sender, flask.request, response)
        except Exception as exc:  # noqa: BLE001 - a broken check must show, not pass silently
            problem = f"the check itself failed: {exc!r}"
        if problem:
            self.mismatches.append(f"{flask.request.method} {flask.request.full_path.rstrip('?')} "
                                   f"→ {response.status_code}: {problem}")

    def _document(self, app: flask.Flask) -> _Document | None:
        if app not in self._documents:
            apis: dict[str, dict[str, Any]] = app.extensions.get("flask-smorest", {}).get("apis", {})
            api = next(iter(apis.values())).get("ext_obj") if apis else None
            self._documents[app] = _Document(api.spec.to_dict()) if api is not None else None
        return self._documents[app]

    # -- the check --------------------------------------------------------------------------------
    def check(self, app: flask.Flask, request: flask.Request, response: flask.Response) -> str | None:
        """What is wrong with ``response`` to ``request`` by ``app``'s OpenAPI document, or None."""
        document = self._document(app)
        if document is None or request.url_rule is None or request.method == "OPTIONS":
            return None
        rule = request.url_rule.rule
        if rule in UNCHECKED_PATHS or rule.startswith(UNCHECKED_PREFIXES):
            return None
        method = "GET" if request.method == "HEAD" else request.method
        operation = document.operation(rule, method)
        if operation is None:
            return f"{method} {rule} is not in the OpenAPI document"
        self.checked += 1
        status = response.status_code
        responses = operation.get("responses", {})
        declared = responses.get(str(status))
        if declared is None and status >= 400:
            declared = responses.get("default")
        if declared is None:
            return f"status {status} is not documented (documented: {', '.join(sorted(responses))})"
        documented = document.response(declared).get("content") or {}
        json_schema = next((media.get("schema") for kind, media in documented.items()
                            if kind.split(";")[0].strip() == "application/json"), None)
        if request.method == "HEAD" or status in (204, 304) or response.is_streamed:
            return None
        is_json = response.mimetype == "application/json"
        if not is_json:
            if json_schema is not None and response.content_length != 0 and response.get_data():
                return f"documented as JSON, answered {response.mimetype}"
            if documented and response.mimetype not in documented and response.get_data():
                return f"answered {response.mimetype}, documented {', '.join(documented)}"
            return None
        body = response.get_data()
        if not body:
            return None if json_schema is None else "documented as JSON, answered an empty body"
        if json_schema is None:
            return "answered a JSON body the document does not describe"
        errors = list(document.validator(json_schema).iter_errors(json.loads(body)))
        if errors:
            shown = "; ".join(f"at /{'/'.join(map(str, e.instance_path))}: {e.message}" for e in errors[:5])
            more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
            return f"the body does not match its schema: {shown}{more}"
        return None

"""The authorization matrix, generated from the services' route tables (their OpenAPI documents, which
flask-smorest builds from each service's registered routes): every mutating endpoint is called through
the gateway by an anonymous caller, a stranger, an organization member without the right, a member of
a team with read only, and the owner, on the owner's organization's repository, package and version.

anonymous → 401; the three without the right → 403 or 404; and afterwards not a row of any service's
database has changed. The owner is authorized (neither 401 nor 403). Endpoints open by design to any
signed-in user (or to nobody through the gateway) are named below with the reason, and ``/me/...``
endpoints act on the caller's own things; both are still called anonymously.
"""

from __future__ import annotations

import re

import pytest

from packyard.testing import wait_for

from .conftest import SERVICES, make_world

pytestmark = pytest.mark.e2e

MUTATING = ("post", "put", "patch", "delete")
PUBLIC = {  # no credentials needed: the caller is not yet known, or a token in the path is the credential
    ("post", "/auth/signup"), ("post", "/auth/login"), ("post", "/auth/password-reset"),
    ("post", "/auth/password-reset/confirm"), ("post", "/notifications/unsubscribe/{token}"),
}
ANY_SIGNED_IN = {  # any signed-in user who can read the package may do these; anonymous → 401 still holds
    ("post", "/orgs"),  # anyone founds an organization
    ("put", "/packages/{owner}/{repo}/{package}/reviews/mine"),
    ("delete", "/packages/{owner}/{repo}/{package}/reviews/mine"),
    ("post", "/packages/{owner}/{repo}/{package}/versions/{version}/comments"),
    ("post", "/reviews/{review_id}/report"),
    ("post", "/packages/{subject}/{repo}/{package}/claims"),  # anyone may claim a package as theirs
    ("post", "/packages/{subject}/{repo}/{package}/inclusion_requests"),
    ("delete", "/orgs/{org}/members/{username}"),  # any member may leave (the caller's own membership)
    ("post", "/auth/logout"),  # ends the caller's own login token (calling it would end the caller's session)
}

# Rate-limit windows count the caller's own attempts, refused ones included (catalog counts an upload
# before it checks the right to make it, so that refused attempts are throttled too): not the owner's data.
CALLERS_OWN_RATE_LIMITS = {"catalog.upload_windows"}


def self_scoped(path: str) -> bool:
    """``/me/...``: the caller's own things; only the anonymous caller is refused."""
    return path == "/me" or path.startswith("/me/")


def components(doc: dict, ref: str) -> dict:
    node = doc
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def example(doc: dict, schema: dict | None):
    """A small valid instance of ``schema``, so that a refusal is about rights, not about the body."""
    if not schema:
        return None
    if "$ref" in schema:
        return example(doc, components(doc, schema["$ref"]))
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            return example(doc, schema[key][0])
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: example(doc, props.get(name, {"type": "string"})) for name in schema.get("required", [])}
    if kind == "array":
        return [example(doc, schema.get("items"))] if schema.get("minItems") else []
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    return "x" * max(1, schema.get("minLength", 1))


def calls(gw, world):
    member = world.people["member"]["user"]["username"]
    values = {"subject": world.org, "owner": world.org, "org": world.org, "repo": world.org_repo,
              "package": world.package, "version": world.version, "team": world.team,
              "file_path": world.file_path, "rest": world.file_path, "username": member,
              "source_subject": world.org, "source_repo": world.org_repo, "source_package": world.package,
              "claim_id": "1", "request_id": "1", "review_id": "1", "comment_id": "1", "name": world.org,
              "token": "x"}
    for service in SERVICES:
        doc = gw.get(f"/openapi/{service}.json").json()
        for path, item in doc["paths"].items():
            for method, op in item.items():
                if method not in MUTATING or (method, path) in PUBLIC:
                    continue
                url = re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), "1"), path)
                if path.startswith("/users/{username}"):
                    url = url.replace(f"/users/{member}", f"/users/{world.owner['username']}")
                body_schema = (op.get("requestBody", {}).get("content", {}).get("application/json", {})
                               .get("schema"))
                yield service, method, path, url, example(doc, body_schema)


def snapshot(gw) -> dict[str, str]:
    """A digest of every table of every service's database."""
    digests = {}
    for service in SERVICES:
        tables = [r[0] for r in gw.query(service, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        for table in tables:
            [(count, digest)] = gw.query(service, f'SELECT count(*), md5(coalesce(string_agg(t::text, \',\' '
                                                  f'ORDER BY t::text), \'\')) FROM "{table}" t')
            digests[f"{service}.{table}"] = f"{count}:{digest}"
    return digests


def quiet_snapshot(gw) -> dict[str, str]:
    """The databases once the bus has settled (no outbox row unsent, two equal snapshots in a row)."""
    previous = {}

    def settled():
        nonlocal previous
        current = snapshot(gw)
        same, previous = current == previous, current
        return same
    wait_for(settled, timeout=60, interval=1, message="the platform at rest")
    return previous


def test_every_mutating_endpoint_refuses_those_without_the_right_and_changes_nothing(gw):
    world = make_world(gw)
    todo = list(calls(gw, world))
    assert len(todo) > 60, "the route tables should give every mutating endpoint"
    before = quiet_snapshot(gw)
    wrong = []
    roles = {"anonymous": {}, **{role: world.people[role]["headers"] for role in ("stranger", "member", "reader")}}
    for service, method, path, url, body in todo:
        for role, headers in roles.items():
            if role != "anonymous" and (self_scoped(path) or (method, path) in ANY_SIGNED_IN):
                continue
            answer = gw.request(method.upper(), url, headers=headers, json=body)
            if path.startswith("/internal/"):
                allowed = {401, 403, 404}  # never reachable through the gateway
            else:
                allowed = {401} if role == "anonymous" else {403, 404}
            if answer.status_code not in allowed:
                wrong.append((service, method.upper(), path, role, answer.status_code, answer.text[:120]))
    after = quiet_snapshot(gw)
    changed = sorted(table for table in set(before) | set(after)
                     if before.get(table) != after.get(table) and table not in CALLERS_OWN_RATE_LIMITS)
    print(f"\nauthorization matrix: {len(todo)} mutating endpoints × {len(roles)} callers "
          f"({len(ANY_SIGNED_IN)} open to any signed-in user, {len(PUBLIC)} public)")
    assert wrong == [], "\n".join(map(str, wrong))
    assert changed == [], f"tables changed by refused calls: {changed}"

    owner_refused = []
    for service, method, path, url, body in sorted(todo, key=lambda c: c[1] == "delete"):
        if self_scoped(path) or (method, path) in ANY_SIGNED_IN or path.startswith(("/internal/", "/admin/")) \
                or "{claim_id}" in path \
                or "{request_id}" in path or "{review_id}" in path or "{comment_id}" in path:
            continue
        answer = gw.request(method.upper(), url, headers=world.owner_headers, json=body)
        if answer.status_code in (401, 403):
            owner_refused.append((service, method.upper(), path, answer.status_code, answer.text[:120]))
    assert owner_refused == [], "\n".join(map(str, owner_refused))


def test_the_snapshot_sees_a_change(gw):
    """The matrix's "nothing changed" cannot pass vacuously: a real change shows in the snapshot."""
    before = quiet_snapshot(gw)
    gw.signup()
    after = quiet_snapshot(gw)
    assert "identity.users" in {t for t in after if before.get(t) != after[t]}

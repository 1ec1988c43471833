"""The reverse of test_gateway_routes: every route of the gateway reaches an endpoint of its service,
so no route leads to a 404. Each route's literal alternatives (``(followers|following)``) are
expanded, and each expansion must match a real rule of the service it names, and be answered by
that service through nginx with something other than the generic "Not found"."""

from __future__ import annotations

import importlib
import itertools
import re

import generate as gateway_config
import pytest
from launcher import SERVICES

pytestmark = pytest.mark.e2e

NOT_PUBLIC = re.compile(r"^/(livez|readyz|metrics|internal/|static/)")
SAMPLES = {"path": "some/dir/file-1.0.jar", "int": "7", "default": "sample-1", "string": "sample-1"}
ALTERNATIVES = re.compile(r"\(((?:[\w\-]|\\\.)+(?:\|(?:[\w\-]|\\\.)+)+)\)")


def expansions(pattern: str) -> list[str]:
    groups = ALTERNATIVES.findall(pattern)
    if not groups:
        return [pattern]
    parts = ALTERNATIVES.split(pattern)  # literal, group, literal, group, ...
    out = []
    for choice in itertools.product(*[g.split("|") for g in groups]):
        text = parts[0]
        for alternative, literal in zip(choice, parts[2::2], strict=False):
            text += alternative + literal
        out.append(text)
    return out


def samples(platform, service, monkeypatch) -> list[tuple[str, str]]:
    for name, value in platform.service_env(service).items():
        monkeypatch.setenv(name, value)
    app = importlib.import_module(f"{service}.app").create_app()
    found = []
    for rule in app.url_map.iter_rules():
        if NOT_PUBLIC.match(rule.rule):
            continue
        path = re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", lambda m: SAMPLES.get(m.group(1) or "default", "sample-1"),
                      rule.rule)
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        found.append((path, "GET" if "GET" in methods else methods[0]))
    return found


def test_alternatives_are_expanded():
    assert expansions(r"^/users/[^/]+/(followers|following)$") == [r"^/users/[^/]+/followers$",
                                                                  r"^/users/[^/]+/following$"]
    assert expansions(r"^/(a|b)/(c|d)(/|$)") == [r"^/a/c(/|$)", r"^/a/d(/|$)", r"^/b/c(/|$)", r"^/b/d(/|$)"]


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_of_the_service_reaches_one_of_its_endpoints(service, gw, monkeypatch):
    _services, routes = gateway_config.load_routes()
    rules = samples(gw.platform, service, monkeypatch)
    for route in (r for r in routes if r["service"] == service):
        for pattern in expansions(route["pattern"]):
            served = [(path, method) for path, method in rules if re.search(pattern, path)]
            assert served, f"the gateway routes {pattern} to {service}, which serves nothing there"
            path, method = served[0]
            response = gw.request(method, path, json={} if method != "GET" else None)
            assert response.headers.get("X-Packyard-Service") == service, (pattern, path)
            assert not (response.status_code == 404 and response.json() == {"message": "Not found"}), \
                f"{method} {path} ({pattern}) reached no endpoint of {service}"

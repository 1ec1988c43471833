"""Every public endpoint of every service is in the route table and reaches that service."""

from __future__ import annotations

import importlib
import re

import generate as gateway_config
import pytest
from launcher import SERVICES

pytestmark = pytest.mark.e2e

NOT_PUBLIC = re.compile(r"^/(livez|readyz|metrics|internal/|static/)")
SAMPLES = {"path": "some/dir/file-1.0.jar", "int": "7", "default": "sample-1", "string": "sample-1"}


def public_rules(platform, service, monkeypatch) -> list[tuple[str, str]]:
    for name, value in platform.service_env(service).items():
        monkeypatch.setenv(name, value)
    app = importlib.import_module(f"{service}.app").create_app()
    rules = []
    for rule in app.url_map.iter_rules():
        if NOT_PUBLIC.match(rule.rule):
            continue
        sample = re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>",
                        lambda m: SAMPLES.get(m.group(1) or "default", "sample-1"), rule.rule)
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        method = "GET" if "GET" in methods else methods[0]
        rules.append((sample, method))
    return rules


def test_the_generated_gateway_configuration_is_up_to_date():
    services, routes = gateway_config.load_routes()
    assert gateway_config.OUTPUT.read_text() == gateway_config.render(services, routes), \
        "run python deploy/gateway/generate.py"


@pytest.mark.parametrize("service", SERVICES)
def test_every_public_route_reaches_its_service_through_the_gateway(service, gw, monkeypatch):
    _services, routes = gateway_config.load_routes()
    rules = public_rules(gw.platform, service, monkeypatch)
    assert rules, f"{service} has no public routes"
    for path, method in rules:
        route = gateway_config.route_for(path, routes)
        assert route is not None and route["service"] == service, f"{method} {path} is not routed to {service}"
        response = gw.request(method, path, json={} if method != "GET" else None)
        assert response.headers.get("X-Packyard-Service") == service, \
            f"{method} {path} answered {response.status_code} from {response.headers.get('X-Packyard-Service')}"


def test_internal_and_unknown_paths_are_not_reachable_from_outside(gw):
    for path in ("/internal/authn", "/internal/anything", "/livez-not", "/nowhere/at/all"):
        response = gw.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"message": "Not found"}
        assert "X-Packyard-Service" not in response.headers
    for service in SERVICES:
        response = gw.get(f"/openapi/{service}.json")
        assert response.status_code == 200 and response.headers["X-Packyard-Service"] == service

"""The web pages (services/web) as deployed: image, Procfile, compose, Kubernetes and gateway routes.

The web app has no database, broker, worker or relay, so the per-service checks of the other
files do not apply to it; these are its own, to the same standards.
"""

from __future__ import annotations

import os
import re

import generate as gateway_config  # deploy/gateway, on sys.path through tests/conftest.py
import pytest

from packyard.config import required_variables, variables
from web import config as web_config

BUILD_TOOLS = re.compile(r"\b(build-essential|gcc|g\+\+|make|cargo|rustc|python3-dev|libpq-dev)\b")
KNOWN = set(variables(web_config.Settings)) | {"PROMETHEUS_MULTIPROC_DIR", "WEB_CONCURRENCY", "WEB_THREADS"}


def test_the_image_is_multi_stage_unprivileged_and_serves_the_app_on_8000(root, dockerfile):
    df = dockerfile(root / "services/web/Dockerfile")
    assert len(df.stages) >= 2 and re.match(r"^python:3\.11-slim(-\w+)?$", df.base())
    assert "pip wheel" in " ".join(df.instructions("RUN", 0))
    assert not BUILD_TOOLS.search(" ".join(df.instructions("RUN")))
    uid = df.instructions("USER")[-1].split(":")[0]
    assert uid.isdigit() and int(uid) >= 1000
    env = df.env()
    assert env["PYTHONDONTWRITEBYTECODE"] == "1" and env["PYTHONUNBUFFERED"] == "1"
    assert int(env["WEB_CONCURRENCY"]) >= 1 and "PROMETHEUS_MULTIPROC_DIR" not in env
    cmd = df.cmd()
    assert cmd[0] == "gunicorn" and cmd[-1] == "web.app:create_app()"
    assert cmd[cmd.index("--bind") + 1] == "0.0.0.0:8000" and "8000" in df.instructions("EXPOSE")[-1].split()
    copied = [rest.split() for rest in df.instructions("COPY")]
    assert ["services/web/web/", "web/"] in copied, "the package with its templates and static files"


def test_the_procfile_runs_the_same_app_as_the_image(procfile, command_words, root, dockerfile):
    ours = command_words(procfile["web"])
    image = dockerfile(root / "services/web/Dockerfile").cmd()
    assert ours[0] == image[0] == "gunicorn" and ours[-1] == image[-1]


def test_compose_runs_the_web_pages_locked_down_with_their_settings(compose, compose_env, monkeypatch):
    spec = compose["services"]["web"]
    assert spec["build"]["dockerfile"] == "services/web/Dockerfile"
    assert spec["read_only"] is True and "/tmp" in spec["tmpfs"] and spec["cap_drop"] == ["ALL"]
    assert "http://127.0.0.1:8000/readyz" in " ".join(spec["healthcheck"]["test"])
    env = compose_env("web")
    assert not sorted(required_variables(web_config.Settings) - {k for k, v in env.items() if v})
    assert not sorted(set(env) - KNOWN), "only variables the web app reads"
    assert env["API_URL"].startswith("http://gateway:")
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    web_config.load()
    gateway = compose["services"]["gateway"]
    assert compose_env("gateway")["WEB_UPSTREAM"] == "web:8000"
    assert "web" in gateway["depends_on"], "nginx resolves the web app's address when it starts"
    assert "gateway" not in (spec.get("depends_on") or {}), "no cycle: the pages reach the gateway per request"


def test_kubernetes_deploys_the_web_pages_with_their_secret_by_reference(kustomization, container_env, monkeypatch):
    kz = kustomization("web")
    deployment = kz.get("Deployment", "web")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "packyard/web"
    env = container_env(kz, container)
    assert not sorted(required_variables(web_config.Settings) - set(env))
    assert not sorted(set(env) - KNOWN)
    assert env["WEB_SESSION_KEY"].secret == "web-secrets", "the session key comes from a Secret"
    service = kz.get("Service", "web")
    assert [p["port"] for p in service["spec"]["ports"]] == [8000]
    assert "../web" in kustomization("platform").spec["resources"]
    gateway = kustomization("gateway")
    [gw] = gateway.get("Deployment", "gateway")["spec"]["template"]["spec"]["containers"]
    assert container_env(gateway, gw)["WEB_UPSTREAM"].value == "web:8000"
    values = {name: source.value or "dev-only-" for name, source in env.items()}
    values["WEB_SESSION_KEY"] = "cGFja3lhcmQtZGV2LW9ubHktd2ViLXNlc3Npb24tayE="
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = web_config.load()
    assert settings.public_base_url.startswith("https://"), "session cookies are Secure in the cluster"


@pytest.mark.parametrize("path", ["/", "/ui/login", "/ui/users/repos", "/ui/packages/a/b/c/versions/1.0",
                                  "/ui/static/packyard.css", "/reset-password"])
def test_pages_are_routed_to_the_web_app(path):
    _services, routes = gateway_config.load_routes()
    assert gateway_config.route_for(path, routes)["service"] == "web"


@pytest.mark.parametrize("path", ["/users/ui", "/users/reset-password", "/repos/ui", "/repos/repos/ui",
                                  "/packages/ui/ui/ui", "/orgs/ui", "/search/users", "/me", "/uix", "/dl/ui/x/y",
                                  "/users/repos", "/nowhere"])
def test_no_api_path_reaches_the_web_app(path):
    _services, routes = gateway_config.load_routes()
    route = gateway_config.route_for(path, routes)
    assert route is None or route["service"] != "web", path

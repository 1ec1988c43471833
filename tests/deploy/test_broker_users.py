"""One broker user per service: compose and Kubernetes create them with the platform's permissions,
and the compose set-up script does so on a real broker."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pika
import pika.exceptions
import pytest
import yaml

from packyard.amqp import broker_permissions

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("identity", "social", "catalog", "notifier", "signing")
SCRIPT = ROOT / "deploy" / "compose" / "rabbitmq" / "broker_users.py"


@pytest.mark.parametrize("svc", SERVICES)
def test_compose_connects_each_service_as_its_own_broker_user(svc, compose, compose_env):
    service = svc
    for role in ("migrate", "api", "worker", "relay"):
        url = urllib.parse.urlsplit(compose_env(f"{service}-{role}")["AMQP_URL"])
        assert url.username == service, f"{service}-{role}"
        setup = compose_env("broker-users")
        assert url.password == setup[f"{service.upper()}_AMQP_PASSWORD"], "the user broker-users creates"
    assert compose["services"][f"{service}-migrate"]["depends_on"]["broker-users"]["condition"] == \
        "service_completed_successfully"


def test_compose_creates_the_users_with_the_set_up_script(compose, compose_env):
    spec = compose["services"]["broker-users"]
    assert spec["command"] == ["python", "/setup/broker_users.py"]
    assert "./deploy/compose/rabbitmq:/setup:ro" in spec["volumes"]
    assert set(compose_env("broker-users")["PACKYARD_SERVICES"].split()) == set(SERVICES)
    assert spec["depends_on"]["rabbitmq"]["condition"] == "service_healthy"


@pytest.mark.parametrize("svc", SERVICES)
def test_kubernetes_declares_each_services_user_permissions_and_exchange(svc):
    service = svc
    documents = [d for d in yaml.safe_load_all((ROOT / "deploy/k8s" / service / "broker.yaml").read_text()) if d]
    kinds = {d["kind"]: d for d in documents}
    assert kinds["User"]["spec"]["importCredentialsSecret"]["name"] == f"{service}-broker-user"
    permission = kinds["Permission"]["spec"]
    assert permission["userReference"]["name"] == kinds["User"]["metadata"]["name"]
    configure, write, read = broker_permissions(service)
    assert permission["permissions"] == {"configure": configure, "write": write, "read": read}
    assert kinds["Exchange"]["spec"]["name"] == f"{service}.events" and kinds["Exchange"]["spec"]["type"] == "topic"
    kustomization = yaml.safe_load((ROOT / "deploy/k8s" / service / "kustomization.yaml").read_text())
    assert "broker.yaml" in kustomization["resources"]
    readme = (ROOT / "deploy/k8s/README.md").read_text()
    assert f"`{service}-broker-user`" in readme and "`rabbitmq-admin`" in readme


def test_the_set_up_script_gives_each_service_a_user_that_writes_only_its_own_exchange(rabbitmq, fresh_amqp_url):
    if rabbitmq.api is not None or not shutil.which("rabbitmqctl"):
        pytest.skip("needs a broker administered with a local rabbitmqctl")
    vhost = pika.URLParameters(fresh_amqp_url).virtual_host
    tag = secrets.token_hex(3)
    services = [f"pkt{tag}a", f"pkt{tag}b"]
    passwords = {s: "-" + secrets.token_urlsafe(12) for s in services}  # a password may start with "-"
    env = {**os.environ, "PACKYARD_SERVICES": " ".join(services), "RABBITMQ_VHOST": vhost,
           "RABBITMQ_ADMIN_URL": fresh_amqp_url, **{f"{s.upper()}_AMQP_PASSWORD": p for s, p in passwords.items()}}
    env.pop("RABBITMQ_API", None)
    if rabbitmq.node:
        env["RABBITMQ_NODENAME"] = rabbitmq.node
    rabbitmq.users.extend(services)  # removed at the end of the run
    result = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    first, second = services

    def channel(service):
        return pika.BlockingConnection(pika.URLParameters(rabbitmq.url(vhost, user=service,
                                                                       password=passwords[service]))).channel()

    own = channel(first)
    own.confirm_delivery()
    own.basic_publish(f"{first}.events", "x.y.z", b"{}")  # its own exchange, declared by the script
    other = channel(first)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
        other.basic_publish(f"{second}.events", "x.y.z", b"{}")
        other.queue_declare(f"{second}.probe")  # a round trip, so the refusal arrives
    assert refused.value.reply_code == 403

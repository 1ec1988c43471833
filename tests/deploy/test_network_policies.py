"""Kubernetes NetworkPolicies: default deny, and exactly the flows the platform needs.

The policies of deploy/k8s/platform are evaluated the way Kubernetes does (a flow passes when
the source's egress policies and the destination's ingress policies both allow it; a pod no
policy selects for a direction is open in that direction) against the pods the manifests run.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
SERVICES = ("identity", "social", "catalog", "notifier", "signing")
NAMESPACE = "packyard"


@dataclass(frozen=True)
class Endpoint:
    """A pod (labels, namespace) or an address outside the cluster (ip)."""

    labels: tuple[tuple[str, str], ...] = ()
    namespace: str = NAMESPACE
    namespace_labels: tuple[tuple[str, str], ...] = ()
    ip: str | None = None

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


def pod(name: str, component: str, namespace: str = NAMESPACE, **labels: str) -> Endpoint:
    all_labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component, **labels}
    return Endpoint(tuple(sorted(all_labels.items())), namespace,
                    (("kubernetes.io/metadata.name", namespace),))


DNS = Endpoint((("k8s-app", "kube-dns"),), "kube-system", (("kubernetes.io/metadata.name", "kube-system"),))
PROMETHEUS = Endpoint((("app", "prometheus"),), "monitoring", (("kubernetes.io/metadata.name", "monitoring"),))
INGRESS_CONTROLLER = Endpoint((("app", "ingress-nginx"),), "ingress-nginx",
                              (("kubernetes.io/metadata.name", "ingress-nginx"),))
DATABASE = Endpoint(ip="10.20.0.5")  # PostgreSQL and RabbitMQ live outside the manifests
INTERNET = Endpoint(ip="93.184.216.34")
METADATA = Endpoint(ip="169.254.169.254")
PRIVATE = Endpoint(ip="10.1.2.3")


def _policies() -> list[dict]:
    found = []
    for path in sorted(K8S.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") == "NetworkPolicy":
                found.append(document)
    return found


@pytest.fixture(scope="module")
def policies() -> list[dict]:
    return _policies()


def _matches(selector: dict | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _peer_matches(peer: dict, other: Endpoint, policy_namespace: str = NAMESPACE) -> bool:
    if "ipBlock" in peer:
        if other.ip is None:
            return False
        address = ipaddress.ip_address(other.ip)
        block = peer["ipBlock"]
        network = ipaddress.ip_network(block["cidr"])
        if address.version != network.version or address not in network:
            return False
        return not any(address.version == ipaddress.ip_network(e).version and address in ipaddress.ip_network(e)
                       for e in block.get("except", []))
    if other.ip is not None:
        return False  # pod and namespace selectors select pods only
    if "namespaceSelector" in peer:
        if not _matches(peer["namespaceSelector"], dict(other.namespace_labels)):
            return False
    elif other.namespace != policy_namespace:
        return False
    return _matches(peer.get("podSelector"), other.label_map)


def _port_matches(rule: dict, port: int, protocol: str) -> bool:
    ports = rule.get("ports")
    if not ports:
        return True
    return any(p.get("port") == port and p.get("protocol", "TCP") == protocol for p in ports)


def _allowed(policies: list[dict], subject: Endpoint, other: Endpoint, port: int, protocol: str,
             direction: str) -> bool:
    if subject.ip is not None or subject.namespace != NAMESPACE:
        return True  # outside Packyard's namespace: not governed by these policies
    key = "ingress" if direction == "Ingress" else "egress"
    peers_key = "from" if direction == "Ingress" else "to"
    selecting = [p for p in policies if direction in p["spec"].get("policyTypes", ["Ingress"])
                 and _matches(p["spec"].get("podSelector"), subject.label_map)]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get(key) or []:
            peers = rule.get(peers_key)
            if (not peers or any(_peer_matches(peer, other) for peer in peers)) and _port_matches(rule, port, protocol):
                return True
    return False


def flows(policies, source: Endpoint, destination: Endpoint, port: int, protocol: str = "TCP") -> bool:
    return (_allowed(policies, source, destination, port, protocol, "Egress")
            and _allowed(policies, destination, source, port, protocol, "Ingress"))


def api(name: str) -> Endpoint:
    return pod(name, "api")


PODS = [pod(s, role) for s in SERVICES for role in ("api", "worker", "relay", "migrate")] + [pod("gateway", "gateway")]


def test_every_pod_is_denied_by_default_in_both_directions(policies):
    deny = [p for p in policies if p["spec"].get("podSelector") == {}
            and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    assert deny, "a default-deny policy selecting every pod"
    stranger = pod("something-else", "debug")
    assert not flows(policies, stranger, api("identity"), 8000)
    assert not flows(policies, stranger, INTERNET, 443)


def test_the_platform_includes_the_network_baseline():
    platform = yaml.safe_load((K8S / "platform" / "kustomization.yaml").read_text())
    assert "../network" in platform["resources"]
    for name in (*SERVICES, "gateway"):
        assert "network.yaml" in yaml.safe_load((K8S / name / "kustomization.yaml").read_text())["resources"]


def test_every_directory_that_runs_pods_brings_its_network_policies():
    """Under default deny, a new workload without its own flows would be cut off."""
    for kustomization in K8S.glob("*/kustomization.yaml"):
        spec = yaml.safe_load(kustomization.read_text())
        kinds = set()
        for resource in spec.get("resources", []):
            path = kustomization.parent / resource
            if path.is_file():
                kinds |= {d.get("kind") for d in yaml.safe_load_all(path.read_text()) if d}
        if kinds & {"Deployment", "Job", "CronJob"}:
            assert "network.yaml" in spec["resources"], f"{kustomization.parent.name} has no network.yaml"


def test_the_web_pages_sit_behind_the_gateway_and_call_only_it(policies):
    if not (K8S / "web" / "network.yaml").exists():
        pytest.skip("no web pages on Kubernetes yet")
    web, gateway = pod("web", "api"), pod("gateway", "gateway")
    assert flows(policies, gateway, web, 8000)
    assert flows(policies, web, gateway, 8080)
    assert flows(policies, web, DNS, 53, "UDP")
    for service in SERVICES:
        assert not flows(policies, web, api(service), 8000)
    assert not flows(policies, web, DATABASE, 5432) and not flows(policies, web, INTERNET, 443)


@pytest.mark.parametrize("source", PODS, ids=lambda e: e.label_map["app.kubernetes.io/name"] + "-"
                         + e.label_map["app.kubernetes.io/component"])
def test_every_pod_resolves_names(policies, source):
    assert flows(policies, source, DNS, 53, "UDP") and flows(policies, source, DNS, 53, "TCP")


@pytest.mark.parametrize("svc", SERVICES)
def test_each_service_reaches_its_database_and_the_broker_and_the_gateway_does_not(policies, svc):
    service = svc
    for role in ("api", "worker", "relay", "migrate"):
        assert flows(policies, pod(service, role), DATABASE, 5432)
        assert flows(policies, pod(service, role), DATABASE, 5672)
    assert not flows(policies, pod("gateway", "gateway"), DATABASE, 5432)
    assert not flows(policies, pod("gateway", "gateway"), DATABASE, 5672)


def test_clients_reach_the_gateway_and_the_gateway_every_api(policies):
    gateway = pod("gateway", "gateway")
    assert flows(policies, INGRESS_CONTROLLER, gateway, 8080)
    for service in SERVICES:
        assert flows(policies, gateway, api(service), 8000)
        assert not flows(policies, gateway, pod(service, "worker"), 9000)
        assert not flows(policies, INGRESS_CONTROLLER, api(service), 8000), "the APIs only behind the gateway"


def test_the_synchronous_calls_between_services_and_no_others(policies):
    needed = {(s, "identity") for s in SERVICES if s != "identity"} | {("signing", "catalog"), ("catalog", "signing")}
    for caller in SERVICES:
        for callee in SERVICES:
            if caller == callee:
                continue
            for role in ("api", "worker", "relay"):
                allowed = flows(policies, pod(caller, role), api(callee), 8000)
                assert allowed == ((caller, callee) in needed), f"{caller}-{role} → {callee}-api: {allowed}"


def test_prometheus_scrapes_apis_workers_and_relays(policies):
    for service in SERVICES:
        assert flows(policies, PROMETHEUS, api(service), 8000)
        assert flows(policies, PROMETHEUS, pod(service, "worker"), 9000)
        assert flows(policies, PROMETHEUS, pod(service, "relay"), 9000)


def test_only_the_notifiers_workers_reach_the_internet_and_never_private_or_metadata_addresses(policies):
    worker = pod("notifier", "worker")
    for port in (443, 80, 587):
        assert flows(policies, worker, INTERNET, port)
    for blocked in (METADATA, PRIVATE, Endpoint(ip="192.168.1.1"), Endpoint(ip="172.20.0.1")):
        assert not flows(policies, worker, blocked, 443), blocked.ip
    for source in PODS:
        if source != worker:
            assert not flows(policies, source, INTERNET, 443), source.label_map
            assert not flows(policies, source, METADATA, 80), source.label_map

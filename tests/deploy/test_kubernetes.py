"""The Kustomize manifests: each service deploys on its own, with probes, limits, non-root
pods, every setting its Settings require, Secrets referenced by name only, and the KEDA
scaler on the notifier's queues."""

from __future__ import annotations

import dataclasses
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from packyard.config import required_variables, variables

ROLES = ("api", "worker", "relay")
K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUSTOMIZATIONS = sorted(p.parent.name for p in K8S.glob("*/kustomization.yaml"))
PROCESS_VARIABLES = {"WEB_CONCURRENCY", "WEB_THREADS", "GUNICORN_TIMEOUT", "PROMETHEUS_MULTIPROC_DIR"}


def _pod(obj: dict) -> dict:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def _containers(obj: dict, *, init: bool = True) -> list[dict]:
    pod = _pod(obj)
    return list(pod.get("containers", [])) + (list(pod.get("initContainers", [])) if init else [])


def _workloads(kz) -> list[dict]:
    return kz.of_kind("Deployment") + kz.of_kind("Job") + kz.of_kind("CronJob")


def _port_number(container: dict, port: int | str) -> int:
    if isinstance(port, int):
        return port
    for declared in container.get("ports", []):
        if declared.get("name") == port:
            return declared["containerPort"]
    raise AssertionError(f"{container['name']} has no port named {port}")


def _secret_names(settings: type) -> set[str]:
    names = {"DATABASE_URL", "AMQP_URL"}  # they carry passwords
    for field in dataclasses.fields(settings):
        var = field.metadata.get("packyard_env")
        if var is not None and var.secret:
            names.add(var.name)
    return names


# -- structure ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_every_kustomization_resolves(name, kustomization):
    """Every resource, component, generator file and patch named exists where kustomize may load it."""
    kz = kustomization(name)
    if kz.spec.get("kind") != "Component":
        assert kz.objects, f"{name} deploys nothing"


def test_each_service_directory_holds_all_its_processes(service, kustomization, procfile):
    kz = kustomization(service)
    deployments = {d["metadata"]["name"] for d in kz.of_kind("Deployment")}
    assert deployments == {f"{service}-{role}" for role in ROLES}
    assert {f"{service}-{role}" for role in ROLES} <= set(procfile), "the same names as the Procfile"
    kz.get("Job", f"{service}-migrate")
    kz.get("Service", f"{service}-api")
    kz.get("PodDisruptionBudget", f"{service}-api")
    kz.get("ConfigMap", f"{service}-config")
    assert "../base" in kz.spec.get("components", []), "the common labels"


def test_each_service_directory_is_self_contained(service, kustomization):
    """Everything a service's workloads reference, except its Secret, comes with the directory."""
    kz = kustomization(service)
    for workload in _workloads(kz):
        for container in _containers(workload):
            for source in container.get("envFrom", []):
                kz.get("ConfigMap", source["configMapRef"]["name"])
        for volume in _pod(workload).get("volumes", []):
            if "persistentVolumeClaim" in volume:
                kz.get("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
            if "configMap" in volume:
                kz.get("ConfigMap", volume["configMap"]["name"])


def test_the_platform_composes_every_service_and_the_gateway(kustomization, services):
    resources = kustomization("platform").spec["resources"]
    for name in [*services, "gateway"]:
        assert f"../{name}" in resources


def test_kustomize_builds_every_directory_as_the_files_say(kustomize_command, kustomization):
    if kustomize_command is None:
        pytest.skip("neither kustomize nor kubectl is on PATH, so `kustomize build` was not run; "
                    "the file-level checks of the other tests still ran")
    for name in KUSTOMIZATIONS:
        kz = kustomization(name)
        if kz.spec.get("kind") == "Component":
            continue
        result = subprocess.run([*kustomize_command, str(K8S / name)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"kustomize build {name}: {result.stderr}"
        built = [o for o in yaml.safe_load_all(result.stdout) if o]
        configmaps = {o["metadata"]["name"] for o in built if o["kind"] == "ConfigMap"}

        def unhashed(obj: dict) -> tuple[str, str]:
            name_ = obj["metadata"]["name"]
            return obj["kind"], re.sub(r"-[a-z0-9]{10}$", "", name_) if obj["kind"] == "ConfigMap" else name_

        assert sorted(map(unhashed, built)) == sorted(map(unhashed, kz.objects)), name
        for obj in built:
            assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "packyard", (name, obj["metadata"])
            if obj["kind"] in ("Deployment", "Job", "CronJob"):
                for container in _containers(obj):
                    for source in container.get("envFrom", []):
                        assert source["configMapRef"]["name"] in configmaps, "generated names are referenced"


# -- workloads ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [k for k in KUSTOMIZATIONS if k not in ("base", "platform")])
def test_every_deployment_has_probes_resources_and_runs_as_non_root(name, kustomization):
    kz = kustomization(name)
    for workload in _workloads(kz):
        label = f"{workload['kind']} {workload['metadata']['name']}"
        pod = _pod(workload)
        assert pod["securityContext"]["runAsNonRoot"] is True, label
        assert pod["securityContext"].get("runAsUser", 1) != 0, label
        assert pod.get("automountServiceAccountToken") is False, label
        for container in _containers(workload):
            where = f"{label}/{container['name']}"
            if workload["kind"] == "Deployment" and container in pod["containers"]:
                assert container.get("livenessProbe"), f"{where}: no liveness probe"
                assert container.get("readinessProbe"), f"{where}: no readiness probe"
            requests = container["resources"]["requests"]
            assert requests.get("cpu") and requests.get("memory"), f"{where}: requests"
            assert container["resources"]["limits"].get("memory"), f"{where}: memory limit"
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["capabilities"]["drop"] == ["ALL"], where


@pytest.mark.parametrize("name", [k for k in KUSTOMIZATIONS if k not in ("base", "platform")])
def test_read_only_containers_get_a_writable_tmp(name, kustomization, container_env):
    kz = kustomization(name)
    for workload in _workloads(kz):
        empty_dirs = {v["name"] for v in _pod(workload).get("volumes", []) if "emptyDir" in v}
        for container in _containers(workload):
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            assert mounts.get("/tmp") in empty_dirs, f"{workload['metadata']['name']}/{container['name']}: /tmp"
            multiproc = container_env(kz, container).get("PROMETHEUS_MULTIPROC_DIR")
            if multiproc is not None:
                assert mounts.get(multiproc.value) in empty_dirs, "gunicorn's metrics directory is writable"


def test_processes_run_the_procfile_commands(service, kustomization, procfile, command_words, dockerfile, root):
    kz = kustomization(service)
    image_cmd = dockerfile(root / "services" / service / "Dockerfile").cmd()
    for role in ROLES:
        name = f"{service}-{role}"
        container = _pod(kz.get("Deployment", name))["containers"][0]
        assert container["image"] == f"packyard/{service}"
        theirs = command_words(procfile[name])
        ours = container.get("command", image_cmd) + container.get("args", [])
        if theirs[0] == "gunicorn":
            assert ours[0] == "gunicorn" and ours[-1] == theirs[-1], name
        else:
            assert ours == theirs, name
    job = _pod(kz.get("Job", f"{service}-migrate"))
    assert job["containers"][0]["command"] == ["python", "-m", service, "migrate"]
    assert job["restartPolicy"] in ("Never", "OnFailure")


def test_probes_ask_the_processes_own_health_endpoints(service, kustomization, container_env):
    kz = kustomization(service)
    for role in ROLES:
        container = _pod(kz.get("Deployment", f"{service}-{role}"))["containers"][0]
        port = 8000 if role == "api" else int(container_env(kz, container)["HEALTH_PORT"].value)
        for probe, path in (("livenessProbe", "/livez"), ("readinessProbe", "/readyz")):
            get = container[probe]["httpGet"]
            assert get["path"] == path, f"{service}-{role} {probe}"
            assert _port_number(container, get["port"]) == port, f"{service}-{role} {probe}"


def test_metrics_are_announced_to_prometheus(service, kustomization, container_env):
    kz = kustomization(service)
    for role in ROLES:
        deployment = kz.get("Deployment", f"{service}-{role}")
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        container = _pod(deployment)["containers"][0]
        port = 8000 if role == "api" else int(container_env(kz, container)["HEALTH_PORT"].value)
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/path"] == "/metrics"
        assert int(annotations["prometheus.io/port"]) == port


def test_replicas_wait_for_the_migration_job(service, kustomization, container_env):
    kz = kustomization(service)
    for role in ROLES:
        deployment = kz.get("Deployment", f"{service}-{role}")
        main = _pod(deployment)["containers"][0]
        waits = [c for c in _pod(deployment).get("initContainers", [])
                 if c.get("command", [])[:4] == ["python", "-m", service, "wait-for-migrations"]]
        assert waits, f"{service}-{role} starts without waiting for its migrations"
        assert waits[0]["image"] == main["image"]
        main_env = container_env(kz, main)
        assert {k: v for k, v in container_env(kz, waits[0]).items() if k in main_env} == \
            {k: v for k, v in main_env.items() if k in container_env(kz, waits[0])}


def test_the_service_command_line_has_wait_for_migrations(service, root):
    result = subprocess.run([sys.executable, "-m", service, "wait-for-migrations", "--help"],
                            capture_output=True, text=True, timeout=120, cwd=root)
    assert result.returncode == 0, result.stderr
    assert "--timeout" in result.stdout


# -- settings ----------------------------------------------------------------------------------

def test_every_required_setting_is_provided(service, kustomization, container_env, settings_of):
    kz = kustomization(service)
    required = required_variables(settings_of(service))
    for workload in _workloads(kz):
        for container in _containers(workload):
            env = container_env(kz, container)
            provided = {n for n, s in env.items() if (s.value or (s.secret and not s.optional))}
            missing = sorted(required - provided)
            assert not missing, f"{workload['metadata']['name']}/{container['name']} lacks {missing}"


def test_local_run_paths_are_replaced_by_container_paths(service, kustomization, container_env,
                                                        local_path_settings):
    kz = kustomization(service)
    for workload in _workloads(kz):
        for container in _containers(workload):
            env = container_env(kz, container)
            for name in local_path_settings(service):
                assert name in env and (env[name].value or "").startswith("/"), \
                    f"{workload['metadata']['name']}: {name} defaults to a path in the read-only code directory"


def test_only_variables_the_service_reads_are_set(service, kustomization, container_env, settings_of):
    kz = kustomization(service)
    known = set(variables(settings_of(service))) | PROCESS_VARIABLES
    for workload in _workloads(kz):
        for container in _containers(workload):
            unknown = sorted(set(container_env(kz, container)) - known)
            assert not unknown, f"{workload['metadata']['name']} sets {unknown}: not in {service}'s Settings (a typo?)"


def test_secrets_come_from_secret_references_only(service, kustomization, container_env, settings_of):
    kz = kustomization(service)
    secret_names = _secret_names(settings_of(service))
    for configmap in kz.of_kind("ConfigMap"):
        stored = sorted(secret_names & set(configmap["data"]))
        assert not stored, f"the ConfigMap {configmap['metadata']['name']} holds secrets {stored}"
    for workload in _workloads(kz):
        for container in _containers(workload):
            for name, source in container_env(kz, container).items():
                if name in secret_names:
                    assert source.secret == f"{service}-secrets" and source.key == name, \
                        f"{workload['metadata']['name']}: {name} must come from the Secret {service}-secrets"


def test_the_service_accepts_its_kubernetes_settings(service, kustomization, container_env, monkeypatch):
    """ConfigMap values pass the service's own checks (types, URLs, addresses), with valid secrets."""
    from cryptography.fernet import Fernet

    config = importlib.import_module(f"{service}.config")
    kz = kustomization(service)
    container = _pod(kz.get("Deployment", f"{service}-api"))["containers"][0]
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, source in container_env(kz, container).items():
        if source.value is not None:
            monkeypatch.setenv(name, source.value)
        elif not source.optional:
            monkeypatch.setenv(name, {"DATABASE_URL": "postgresql+psycopg://u:p@db:5432/x",
                                      "AMQP_URL": "amqp://u:p@mq:5672/%2F"}.get(name, Fernet.generate_key().decode()))
    config.load()


def test_no_secret_value_is_kept_in_the_manifests():
    for path in K8S.rglob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text()):
            if not document:
                continue
            assert not document.get("secretGenerator"), f"{path}: secretGenerator puts values in the repository"
            if document.get("kind") == "Secret":
                assert not document.get("data") and not document.get("stringData"), f"{path}: a Secret with values"


def test_every_secret_key_is_documented(kustomization, services):
    readme = (K8S / "README.md").read_text()
    documented = set(re.findall(r"^\|\s*`([\w-]+)`\s*\|\s*`(\w+)`\s*\|", readme, re.M))
    referenced = set()
    for name in [*services, "gateway"]:
        kz = kustomization(name)
        for workload in _workloads(kz):
            for container in _containers(workload):
                for item in container.get("env", []):
                    ref = item.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        referenced.add((ref["name"], ref["key"]))
        for auth in kz.of_kind("TriggerAuthentication"):
            referenced |= {(t["name"], t["key"]) for t in auth["spec"]["secretTargetRef"]}
    missing = sorted(referenced - documented)
    assert not missing, f"deploy/k8s/README.md does not document the Secret keys {missing}"


# -- service, disruption budget ----------------------------------------------------------------

def _selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def test_the_api_service_and_budget_select_the_api_pods_only(service, kustomization):
    kz = kustomization(service)
    pods = {role: kz.get("Deployment", f"{service}-{role}")["spec"]["template"]["metadata"]["labels"]
            for role in ROLES}
    svc = kz.get("Service", f"{service}-api")
    pdb = kz.get("PodDisruptionBudget", f"{service}-api")
    for selector in (svc["spec"]["selector"], pdb["spec"]["selector"]["matchLabels"]):
        assert _selects(selector, pods["api"])
        assert not _selects(selector, pods["worker"]) and not _selects(selector, pods["relay"])
    api = _pod(kz.get("Deployment", f"{service}-api"))["containers"][0]
    assert _port_number(api, svc["spec"]["ports"][0]["targetPort"]) == 8000
    assert svc["spec"]["ports"][0]["port"] == 8000
    assert kz.get("Deployment", f"{service}-api")["spec"]["replicas"] >= 2, "the budget needs a second replica"


# -- catalog's blobs, the gateway, KEDA ---------------------------------------------------------

def _mount_of_claim(deployment: dict, claim: str) -> dict:
    pod = _pod(deployment)
    volume = next(v["name"] for v in pod["volumes"]
                  if v.get("persistentVolumeClaim", {}).get("claimName") == claim)
    return next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == volume)


def test_the_blob_claim_is_shared_by_catalog_api_and_the_gateway(kustomization, container_env, services):
    if "catalog" not in services:
        pytest.skip("no catalog service yet")
    catalog, gateway = kustomization("catalog"), kustomization("gateway")
    claim = catalog.get("PersistentVolumeClaim", "catalog-blobs")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"], "mounted by pods on different nodes"
    api = catalog.get("Deployment", "catalog-api")
    writer = _mount_of_claim(api, "catalog-blobs")
    reader = _mount_of_claim(gateway.get("Deployment", "gateway"), "catalog-blobs")
    assert not writer.get("readOnly") and reader.get("readOnly") is True
    catalog_path = container_env(catalog, _pod(api)["containers"][0])["BLOB_STORAGE_PATH"].value
    gateway_path = container_env(gateway, _pod(gateway.get("Deployment", "gateway"))["containers"][0])[
        "BLOB_STORAGE_PATH"].value
    assert writer["mountPath"] == catalog_path == gateway_path == reader["mountPath"]


def test_the_download_log_claim_is_shared_by_the_gateway_and_catalogs_worker(kustomization, container_env,
                                                                             services):
    if "catalog" not in services:
        pytest.skip("no catalog service yet")
    catalog, gateway = kustomization("catalog"), kustomization("gateway")
    claim = catalog.get("PersistentVolumeClaim", "download-logs")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"], "written by every gateway pod"
    worker = catalog.get("Deployment", "catalog-worker")
    nginx = gateway.get("Deployment", "gateway")
    reader, writer = _mount_of_claim(worker, "download-logs"), _mount_of_claim(nginx, "download-logs")
    assert not reader.get("readOnly") and not writer.get("readOnly")
    worker_path = container_env(catalog, _pod(worker)["containers"][0])["DOWNLOAD_LOG_DIR"].value
    gateway_path = container_env(gateway, _pod(nginx)["containers"][0])["DOWNLOAD_LOG_DIR"].value
    assert reader["mountPath"] == worker_path == gateway_path == writer["mountPath"]


def test_unreferenced_blobs_are_collected_daily_with_the_catalog_command(kustomization, root, services):
    if "catalog" not in services:
        pytest.skip("no catalog service yet")
    catalog = kustomization("catalog")
    cron = catalog.get("CronJob", "catalog-gc-blobs")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    container = _pod(cron)["containers"][0]
    assert container["command"] == ["python", "-m", "catalog", "gc-blobs"]
    assert not _mount_of_claim(cron, "catalog-blobs").get("readOnly")
    result = subprocess.run([sys.executable, "-m", "catalog", "gc-blobs", "--help"],
                            capture_output=True, text=True, timeout=120, cwd=root)
    assert result.returncode == 0, result.stderr


def test_the_gateway_gets_its_template_variables_and_reaches_every_api(kustomization, container_env,
                                                                          gateway_template_variables, services):
    gateway, platform = kustomization("gateway"), kustomization("platform")
    deployment = gateway.get("Deployment", "gateway")
    container = _pod(deployment)["containers"][0]
    env = {name: source.value for name, source in container_env(gateway, container).items()}
    missing = sorted(gateway_template_variables - set(env))
    assert not missing, f"the gateway template needs {missing}"
    for service in services:
        host, _, port = env[f"{service.upper()}_UPSTREAM"].partition(":")
        svc = platform.get("Service", host)
        assert int(port) in [p["port"] for p in svc["spec"]["ports"]]
    assert _port_number(container, "http") == int(env["GATEWAY_PORT"])
    # The image renders the template into conf.d at start: it must be writable.
    empty_dirs = {v["name"] for v in _pod(deployment)["volumes"] if "emptyDir" in v}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts["/etc/nginx/conf.d"] in empty_dirs


def test_the_ingress_sends_the_public_host_to_the_gateway(kustomization):
    gateway = kustomization("gateway")
    [ingress] = gateway.of_kind("Ingress")
    service = gateway.get("Service", "gateway")
    port_names = {p["name"] for p in service["spec"]["ports"]}
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            assert path["path"] == "/" and path["pathType"] == "Prefix"
            assert path["backend"]["service"]["name"] == "gateway"
            assert path["backend"]["service"]["port"]["name"] in port_names


def test_keda_scales_the_notifier_worker_on_every_queue_it_consumes(kustomization, services):
    if "notifier" not in services:
        pytest.skip("no notifier service yet")
    notifier = kustomization("notifier")
    [scaled] = notifier.of_kind("ScaledObject")
    target = scaled["spec"]["scaleTargetRef"]
    assert target.get("kind", "Deployment") == "Deployment" and target["name"] == "notifier-worker"
    notifier.get("Deployment", "notifier-worker")
    triggers = scaled["spec"]["triggers"]
    assert {t["type"] for t in triggers} == {"rabbitmq"}
    declared = sorted(q.spec.name for q in importlib.import_module("notifier.consumers").QUEUES)
    assert sorted(t["metadata"]["queueName"] for t in triggers) == declared
    for trigger in triggers:
        auth = notifier.get("TriggerAuthentication", trigger["authenticationRef"]["name"])
        [host] = [t for t in auth["spec"]["secretTargetRef"] if t["parameter"] == "host"]
        assert (host["name"], host["key"]) == ("notifier-secrets", "AMQP_URL"), "the notifier's own broker account"
    assert scaled["spec"]["minReplicaCount"] >= 1, "at least one worker keeps the other queues consumed"

"""identity's memory limits hold the password hashes its API processes may compute at once."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from identity.config import Settings

ROOT = Path(__file__).resolve().parents[2]
BASE_PER_PROCESS_MIB = 128  # one gunicorn worker of identity, imports and threads, without hashing
MASTER_MIB = 64


def _default(variable: str) -> int:
    from dataclasses import fields

    for f in fields(Settings):
        if f.metadata.get("packyard_env") and f.metadata["packyard_env"].name == variable:
            return int(f.default)
    raise KeyError(variable)


def needed_mib(env: dict[str, str]) -> int:
    workers = int(env.get("WEB_CONCURRENCY", 2))
    hashes = int(env.get("PASSWORD_HASH_CONCURRENCY", _default("PASSWORD_HASH_CONCURRENCY")))
    kib = int(env.get("PASSWORD_HASH_MEMORY_KIB", _default("PASSWORD_HASH_MEMORY_KIB")))
    return workers * (BASE_PER_PROCESS_MIB + hashes * kib // 1024) + MASTER_MIB


def mib(quantity: str) -> int:
    number, unit = re.fullmatch(r"(\d+)\s*([A-Za-z]*)", str(quantity)).groups()
    return int(number) * {"": 1 / 2**20, "m": 1, "mi": 1, "g": 1024, "gi": 1024}[unit.lower()]


def test_the_compose_api_container_has_room_for_its_hashes():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    api = compose["services"]["identity-api"]
    env = {k: str(v) for k, v in api["environment"].items()}
    assert "mem_limit" in api, "identity-api needs a memory limit sized to password hashing"
    assert mib(api["mem_limit"]) >= needed_mib(env)


def test_the_kubernetes_api_pods_have_room_for_their_hashes():
    env = dict(line.split("=", 1) for line in (ROOT / "deploy/k8s/identity/config.env").read_text().splitlines()
               if line and not line.startswith("#"))
    docs = [d for d in yaml.safe_load_all((ROOT / "deploy/k8s/identity/api.yaml").read_text()) if d]
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    [api] = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "api"]
    assert mib(api["resources"]["limits"]["memory"]) >= needed_mib(env)
    # the default argon2 parameters are the ones sized for
    assert needed_mib(env) > needed_mib({**env, "PASSWORD_HASH_CONCURRENCY": "0"})

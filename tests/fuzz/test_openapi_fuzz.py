"""Property-based testing of every service's OpenAPI document through the gateway (schemathesis).

Each service is fuzzed as a real user who owns an organization, a team, repositories and a package
with a published version: path parameters are drawn from that data most of the time, so requests
reach handlers rather than 404s. Every answer must be no server error, a documented status code,
a documented content type and a body matching the documented schema.

Size: ``PACKYARD_FUZZ_CASES`` — the number of cases wanted per service (default 100 in ``make
test``; set 1000 or more for the full run, which adds the coverage and stateful phases and checks
that at least that many cases ran). ``PACKYARD_FUZZ_SEED`` replays a run.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SERVICES, make_world

pytestmark = pytest.mark.e2e

CASES = int(os.environ.get("PACKYARD_FUZZ_CASES", "100"))
FULL = CASES >= 1000
SEED = os.environ.get("PACKYARD_FUZZ_SEED", "20261202")
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
ST = Path(sys.executable).with_name("st")

PATH_DICTIONARIES = {"subject": "subjects", "owner": "subjects", "org": "subjects", "repo": "repos",
                     "package": "packages", "version": "versions", "file_path": "files", "team": "teams",
                     "username": "users", "name": "users", "user": "users", "source_subject": "subjects",
                     "source_repo": "repos", "source_package": "packages"}


def config(world, path: Path) -> Path:
    lines = ["[warnings]", "enabled = false", ""]
    for name, values in world.dictionaries().items():
        lines += [f"[dictionaries.{name}]", "values = [" + ", ".join(f'"{v}"' for v in values) + "]", ""]
    lines.append("[parameters]")
    for param, dictionary in PATH_DICTIONARIES.items():
        lines.append(f'"path.{param}" = {{ dictionary = "{dictionary}", probability = 0.8 }}')
    path.write_text("\n".join(lines) + "\n")
    return path


def operations(gw, service: str) -> int:
    paths = gw.get(f"/openapi/{service}.json").json()["paths"]
    return sum(1 for item in paths.values() for method in item if method in ("get", "put", "post", "patch", "delete"))


# One worker: with several, Hypothesis describes strategies and filter functions in threads with
# ast.parse, which CPython 3.11 does not make thread-safe ("SystemError: AST constructor recursion
# depth mismatch" at random, in any phase) — a failure of the tool that hides the run's findings.
PHASES = "examples,coverage,fuzzing,stateful" if FULL else "fuzzing"


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_answers_as_documented_under_fuzzing(gw, service, tmp_path):
    world = make_world(gw)
    per_operation = max(3, math.ceil(CASES / operations(gw, service)))
    command = [str(ST), "--config-file", str(config(world, tmp_path / "schemathesis.toml")), "--no-color", "run",
               f"{gw.url}/openapi/{service}.json", "--url", gw.url,
               "-H", f"Authorization: {world.owner_headers['Authorization']}",
               # logging out would end the login token every later case is sent with
               "--exclude-path", "/auth/logout",
               "--checks", CHECKS, "--phases", PHASES, "-n", str(per_operation), "--seed", SEED,
               "-w", "1", "--request-timeout", "20", "--output-truncate", "true",
               "--suppress-health-check", "all"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    output = run.stdout + run.stderr
    summary = output[output.rfind("SUMMARY"):] if "SUMMARY" in output else output[-3000:]
    print(f"\n{service}: {per_operation} cases per operation, phases {PHASES}, seed {SEED}\n{summary}")
    generated = re.search(r"(\d+) generated", output)
    assert run.returncode == 0, output[-20000:]
    assert generated, output[-3000:]
    assert int(generated.group(1)) >= (CASES if FULL else CASES // 2), summary

"""`make test` is the whole test command: it prepares the machine itself, and CI runs just that."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_test_prepares_the_machine_before_running_the_suite():
    # run inside `make test` itself too: an enclosing make's variables would add "Entering directory" lines
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    plan = subprocess.run(["make", "--no-print-directory", "-n", "test"], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=True).stdout
    lines = [line for line in plan.splitlines() if line.strip()]
    assert lines[0] == "bash scripts/test-env.sh"
    assert any(line.endswith("/pytest") for line in lines)
    script = (ROOT / "scripts" / "test-env.sh").read_text()
    for needed in ("nginx", "gnupg", "chromium", "chromium-driver", "pg_ctlcluster", "rabbitmq-server"):
        assert needed in script
    assert "rabbitmq_management" not in script  # the suite no longer needs the management API


def test_the_suite_does_not_default_to_rabbitmqs_management_api():
    makefile = (ROOT / "Makefile").read_text()
    assert "export PACKYARD_TEST_RABBITMQ_API" not in makefile


def test_ci_runs_nothing_but_make_test():
    commands = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == "exec make test"
    assert not any("apt-get" in c or "rabbitmq" in c or "pg_ctl" in c for c in commands)

"""`make run` on a fresh machine: SQLite under var/, every process up, mail in var/mail/."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests
from launcher import DEFAULT_PORTS, ROOT

from packyard.testing import free_port, wait_for

pytestmark = pytest.mark.e2e


def test_make_run_brings_up_the_platform_on_sqlite(fresh_amqp_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
    env.update({name: str(free_port()) for name in DEFAULT_PORTS})
    env.update(AMQP_URL=fresh_amqp_url, PACKYARD_VAR=str(tmp_path / "var"), WEB_CONCURRENCY="1")
    proc = subprocess.Popen([sys.executable, "deploy/local/run.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    output: list[str] = []
    try:
        deadline = time.monotonic() + 150
        while not any("packyard: ready" in line for line in output):
            assert proc.poll() is None, "".join(output[-80:])
            assert time.monotonic() < deadline, "not ready in time:\n" + "".join(output[-80:])
            try:
                output.append(lines.get(timeout=1))
            except queue.Empty:
                pass
        gateway = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
        response = requests.post(f"{gateway}/auth/signup", json={
            "username": "localrun", "email": "localrun@example.com", "password": "a long enough password"}, timeout=30)
        assert response.status_code == 201, response.text
        maildir = tmp_path / "var" / "mail"
        mail = wait_for(lambda: [p for p in maildir.glob("*.eml") if b"localrun@example.com" in p.read_bytes()],
                        timeout=20, message="the welcome email in var/mail")
        assert b"Welcome" in mail[0].read_bytes()
        assert (tmp_path / "var" / "identity.db").exists()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert proc.returncode == 0, "".join(output[-50:])

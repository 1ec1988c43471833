#!/usr/bin/env python3
"""`make run`: the whole Packyard on this machine, gateway on http://127.0.0.1:8080.

Checks prerequisites (RabbitMQ reachable at AMQP_URL; nginx and gpg installed — installed
with apt when running as root on Debian), migrates every service (SQLite files under var/
unless <SERVICE>_DATABASE_URL says otherwise), starts every API, worker and relay, the
gateway and a local SMTP sink that keeps mail under var/mail/, and prints when everything
is ready. Ctrl-C stops it all. PACKYARD_VAR moves var/ elsewhere; every port can be set
through its variable (GATEWAY_PORT, IDENTITY_PORT, …, see deploy/local/launcher.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from launcher import ROOT, LocalPlatform  # noqa: E402


def fail(message: str) -> None:
    print(f"packyard: {message}", file=sys.stderr)
    raise SystemExit(1)


def ensure_tool(binary: str, package: str) -> None:
    if shutil.which(binary) or Path(f"/usr/sbin/{binary}").exists():
        return
    if os.geteuid() == 0 and Path("/etc/debian_version").exists():
        print(f"packyard: installing {package} with apt-get…", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        ok = subprocess.run(["apt-get", "update", "-qq"], env=env).returncode == 0 and subprocess.run(
            ["apt-get", "install", "-y", "-qq", package], env=env).returncode == 0
        if ok and (shutil.which(binary) or Path(f"/usr/sbin/{binary}").exists()):
            return
    fail(f"{binary} is not installed: install it (Debian/Ubuntu: sudo apt-get install {package}) and run again")


def check_rabbitmq(url: str) -> None:
    parsed = urllib.parse.urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 5672
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError:
        fail(f"RabbitMQ is not reachable at {host}:{port}: start it (e.g. `rabbitmq-server -detached`) "
             f"or point AMQP_URL at one")


def main() -> None:
    ensure_tool("nginx", "nginx-light")
    ensure_tool("gpg", "gnupg")
    if not shutil.which("nginx"):
        os.environ["PATH"] += os.pathsep + "/usr/sbin"
    platform = LocalPlatform(Path(os.environ.get("PACKYARD_VAR") or ROOT / "var"))
    check_rabbitmq(platform.env["AMQP_URL"])
    print("packyard: migrating databases and declaring the broker topology…", flush=True)
    try:
        platform.migrate()
    except RuntimeError as exc:
        fail(str(exc))
    platform.start()
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        platform.wait_ready(timeout=90)
    except (RuntimeError, TimeoutError) as exc:
        platform.stop()
        fail(str(exc))
    print(f"\npackyard: ready — API and downloads at {platform.gateway_url}  "
          f"(mail lands in {platform.var_dir / 'mail'}; Ctrl-C stops)\n", flush=True)
    while not stopping.wait(1):
        for proc in platform.processes.values():
            if proc.popen is not None and proc.popen.poll() is not None:
                print(f"packyard: {proc.name} exited with status {proc.popen.returncode}; stopping", flush=True)
                stopping.set()
    print("packyard: stopping…", flush=True)
    platform.stop()


if __name__ == "__main__":
    main()

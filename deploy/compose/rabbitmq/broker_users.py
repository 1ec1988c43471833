"""Create one RabbitMQ user per Packyard service, its permissions, and every events exchange.

    PACKYARD_SERVICES="identity social catalog notifier signing" \
    IDENTITY_AMQP_PASSWORD=… SOCIAL_AMQP_PASSWORD=… … \
    RABBITMQ_API=http://admin:…@rabbitmq:15672  python broker_users.py

Each service's user may configure and write only ``<service>.*`` and read only its own queues
and the ``*.events`` exchanges (``packyard.amqp.broker_permissions``): it cannot publish as
another service. The five ``<service>.events`` exchanges are declared here too, so a service's
migration can bind its queues to another's exchange whatever order the migrations run in.

Through the management API of ``RABBITMQ_API`` (docker compose), or, when that is not set, with
``rabbitmqctl`` on this machine (``RABBITMQ_NODENAME`` picks the node) and the administrator's
AMQP URL ``RABBITMQ_ADMIN_URL`` for the exchanges. ``RABBITMQ_VHOST`` defaults to ``/``.
Running it again updates passwords and permissions; nothing is deleted.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from packyard.amqp import broker_permissions, events_exchange


class HttpAdmin:
    def __init__(self, api: str) -> None:
        parts = urllib.parse.urlsplit(api)
        self._base = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}"
        credentials = f"{urllib.parse.unquote(parts.username or '')}:{urllib.parse.unquote(parts.password or '')}"
        self._auth = "Basic " + base64.b64encode(credentials.encode()).decode()

    def _put(self, path: str, body: dict) -> None:
        request = urllib.request.Request(self._base + path, data=json.dumps(body).encode(), method="PUT",
                                         headers={"Authorization": self._auth, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30):
            pass

    def wait(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                request = urllib.request.Request(self._base + "/api/overview", headers={"Authorization": self._auth})
                with urllib.request.urlopen(request, timeout=5):
                    return
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(2)

    def user(self, name: str, password: str) -> None:
        self._put(f"/api/users/{urllib.parse.quote(name, safe='')}", {"password": password, "tags": ""})

    def permissions(self, vhost: str, user: str, configure: str, write: str, read: str) -> None:
        self._put(f"/api/permissions/{urllib.parse.quote(vhost, safe='')}/{urllib.parse.quote(user, safe='')}",
                  {"configure": configure, "write": write, "read": read})

    def exchange(self, vhost: str, name: str) -> None:
        self._put(f"/api/exchanges/{urllib.parse.quote(vhost, safe='')}/{urllib.parse.quote(name, safe='')}",
                  {"type": "topic", "durable": True, "auto_delete": False, "internal": False, "arguments": {}})


class CtlAdmin:
    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["rabbitmqctl", "-q", *args], check=check, capture_output=True, text=True, timeout=120)

    def wait(self, timeout: float = 120.0) -> None:
        self._run("await_startup")

    def user(self, name: str, password: str) -> None:
        # "--" ends the options: a password may start with "-".
        if self._run("add_user", "--", name, password, check=False).returncode != 0:
            self._run("change_password", "--", name, password)

    def permissions(self, vhost: str, user: str, configure: str, write: str, read: str) -> None:
        self._run("set_permissions", "-p", vhost, user, configure, write, read)

    def exchange(self, vhost: str, name: str) -> None:
        import pika  # rabbitmqctl cannot declare an exchange: the administrator does it over AMQP

        params = pika.URLParameters(os.environ["RABBITMQ_ADMIN_URL"])
        params.virtual_host = vhost
        connection = pika.BlockingConnection(params)
        try:
            connection.channel().exchange_declare(exchange=name, exchange_type="topic", durable=True)
        finally:
            connection.close()


def main() -> int:
    services = os.environ.get("PACKYARD_SERVICES", "identity social catalog notifier signing").split()
    vhost = os.environ.get("RABBITMQ_VHOST", "/")
    passwords = {}
    for service in services:
        password = os.environ.get(f"{service.upper()}_AMQP_PASSWORD", "")
        if not password:
            print(f"broker_users: set {service.upper()}_AMQP_PASSWORD", file=sys.stderr)
            return 2
        passwords[service] = password
    api = os.environ.get("RABBITMQ_API")
    admin = HttpAdmin(api) if api else CtlAdmin()
    admin.wait()
    for service in services:
        admin.exchange(vhost, events_exchange(service))
        admin.user(service, passwords[service])
        admin.permissions(vhost, service, *broker_permissions(service))
        print(f"broker_users: {service} may write {events_exchange(service)} and read its own queues")
    return 0


if __name__ == "__main__":
    sys.exit(main())

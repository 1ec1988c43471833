"""Run a whole Packyard on one machine: the processes of the Procfile, wired together.

Used by ``make run`` (``deploy/local/run.py``) and by the end-to-end tests, so both start
exactly the same processes with exactly the same environment rules:

* ports: the gateway on 8080 and every API, worker and relay on its own port (see
  CONTRIBUTING.md), all overridable;
* databases: ``<SERVICE>_DATABASE_URL`` (SQLite files under ``var/`` by default);
* secrets: generated once into ``var/secrets.env`` (never in code, never committed);
* the gateway's nginx.conf rendered from ``deploy/gateway/default.conf.template``.

:class:`LocalPlatform` migrates every service, starts each process in its own process group,
waits until every process reports ready, and stops them with SIGTERM (then SIGKILL).
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("identity", "social", "catalog", "notifier", "signing")
DEFAULT_PORTS = {
    "GATEWAY_PORT": 8080,
    "GATEWAY_CONTROL_PORT": 8081,  # identity tells the gateway of a new authentication epoch there
    "SMTP_PORT": 8025,
    "WEB_PORT": 8100,  # the web pages (services/web), behind the gateway like the APIs
    **{f"{s.upper()}_PORT": 8101 + i for i, s in enumerate(SERVICES)},
    **{f"{s.upper()}_WORKER_HEALTH_PORT": 9101 + i for i, s in enumerate(SERVICES)},
    **{f"{s.upper()}_RELAY_HEALTH_PORT": 9201 + i for i, s in enumerate(SERVICES)},
}
SECRETS = ("IDENTITY_SECRET_KEY", "MAIL_TOKEN_KEY", "SIGNING_SECRET_KEY", "SERVICE_TOKEN", "WEB_SESSION_KEY")
FERNET_SECRETS = ("MAIL_TOKEN_KEY", "WEB_SESSION_KEY")

sys.path.insert(0, str(ROOT / "deploy" / "gateway"))
import generate as gateway_config  # noqa: E402


def parse_procfile(path: Path = ROOT / "Procfile") -> dict[str, str]:
    """``name: command`` lines, in order (comments and blank lines ignored)."""
    processes: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line)
        if not match:
            raise ValueError(f"bad Procfile line: {line!r}")
        processes[match.group(1)] = match.group(2)
    return processes


def load_or_create_secrets(path: Path) -> dict[str, str]:
    """Secrets of a local run: created once, kept in ``var/secrets.env`` (mode 0600)."""
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip()
    changed = False
    for name in SECRETS:
        if name not in values:
            if name in FERNET_SECRETS:
                values[name] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
            else:
                values[name] = secrets.token_urlsafe(48)
            changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# Secrets of the local run, generated once. Never commit this file.\n"
                        + "".join(f"{k}={v}\n" for k, v in sorted(values.items())))
        path.chmod(0o600)
    return values


def platform_env(var_dir: Path, overrides: Mapping[str, str] | None = None,
                 base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every process of a local run gets (``overrides`` win)."""
    env = dict(os.environ if base is None else base)
    overrides = dict(overrides or {})
    for name, port in DEFAULT_PORTS.items():
        env.setdefault(name, str(port))
    env.update({k: v for k, v in overrides.items() if k in DEFAULT_PORTS})
    var_dir = var_dir.resolve()
    secret_values = load_or_create_secrets(var_dir / "secrets.env")
    venv_bin = Path(sys.executable).parent
    env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
    env["PACKYARD_VAR"] = str(var_dir)
    env.setdefault("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
    for svc in SERVICES:
        env.setdefault(f"{svc.upper()}_DATABASE_URL", f"sqlite:///{var_dir}/{svc}.db")
    gateway = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
    env.setdefault("PUBLIC_BASE_URL", gateway)
    env.setdefault("JWKS_URL", f"http://127.0.0.1:{env['IDENTITY_PORT']}/.well-known/jwks.json")
    env.setdefault("SMTP_HOST", "127.0.0.1")
    env.setdefault("MAIL_FROM", "Packyard <no-reply@packyard.localhost>")
    env.setdefault("BLOB_STORAGE_PATH", str(var_dir / "blobs"))
    env.setdefault("DOWNLOAD_LOG_DIR", str(var_dir / "download-logs"))
    env.setdefault("GNUPGHOME_ROOT", str(var_dir / "gnupg"))
    # the synchronous pair inside the platform (never through the gateway): signing reads catalog's files,
    # catalog asks signing to sign an upload carrying X-GPG-PASSPHRASE
    env.setdefault("CATALOG_INTERNAL_URL", f"http://127.0.0.1:{env['CATALOG_PORT']}")
    env.setdefault("SIGNING_INTERNAL_URL", f"http://127.0.0.1:{env['SIGNING_PORT']}")
    env.setdefault("LOG_LEVEL", "INFO")
    env.setdefault("SECRET_KEY", secret_values["IDENTITY_SECRET_KEY"])
    env.setdefault("MAIL_TOKEN_KEY", secret_values["MAIL_TOKEN_KEY"])
    env.setdefault("SIGNING_SECRET_KEY", secret_values["SIGNING_SECRET_KEY"])
    env.setdefault("SERVICE_TOKEN", secret_values["SERVICE_TOKEN"])
    env.setdefault("API_URL", gateway)  # the web pages call the public API through the gateway
    env.setdefault("WEB_SESSION_KEY", secret_values["WEB_SESSION_KEY"])
    env.setdefault("GATEWAY_CONTROL_URLS", f"http://127.0.0.1:{env['GATEWAY_CONTROL_PORT']}")
    env.update(overrides)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _geoip_file(env: Mapping[str, str], gw: Path) -> str:
    """``GEOIP_COUNTRY_FILE`` when set (nginx ``geo`` entries), else an empty one: no countries."""
    if env.get("GEOIP_COUNTRY_FILE"):
        return env["GEOIP_COUNTRY_FILE"]
    empty = gw / "geoip-countries.conf"
    empty.write_text("# No GeoIP data: set GEOIP_COUNTRY_FILE to a file of `<CIDR> <country code>;` lines.\n")
    return str(empty)


def _web_trusted_file(env: Mapping[str, str], gw: Path) -> str:
    """The gateway's ``set_real_ip_from`` lines for ``WEB_TRUSTED_ADDRESSES`` (default: this machine, where
    the local run's web app calls the API from)."""
    addresses = env.get("WEB_TRUSTED_ADDRESSES", "127.0.0.1").replace(",", " ").split()
    path = gw / "web-trusted.conf"
    path.write_text("# The web app's addresses (WEB_TRUSTED_ADDRESSES): their X-Forwarded-For is believed.\n"
                    + "".join(f"set_real_ip_from {address};\n" for address in addresses))
    return str(path)


def njs_module() -> str:
    """nginx's JavaScript module (njs), which the gateway's configuration uses: ``NGINX_JS_MODULE`` or the
    usual places of Debian's ``libnginx-mod-http-js`` and of nginx.org's ``nginx-module-njs``."""
    candidates = [os.environ.get("NGINX_JS_MODULE", ""), "/usr/lib/nginx/modules/ngx_http_js_module.so",
                  "/usr/share/nginx/modules/ngx_http_js_module.so", "/etc/nginx/modules/ngx_http_js_module.so",
                  "/usr/lib64/nginx/modules/ngx_http_js_module.so"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    raise SystemExit("nginx's JavaScript module is missing: apt-get install libnginx-mod-http-js "
                     "(or set NGINX_JS_MODULE to ngx_http_js_module.so)")


def forget_kept_answers(env: Mapping[str, str]) -> None:
    """Before a gateway starts: drop the answers about credentials a previous gateway kept (a revocation
    may have happened while it could not be told) and the socket of its authentication listener (left
    behind by a gateway that was killed), as the image's start script does."""
    state = Path(env["PACKYARD_VAR"]) / "gateway" / "state"
    for kept in ("authn", "authn-epoch"):
        shutil.rmtree(state / kept, ignore_errors=True)
    (state / "authn.sock").unlink(missing_ok=True)


def render_gateway(env: Mapping[str, str]) -> Path:
    """Write ``$PACKYARD_VAR/gateway/nginx.conf`` for this environment and return its path."""
    var_dir = Path(env["PACKYARD_VAR"])
    gw = var_dir / "gateway"
    for sub in ("logs", "tmp"):
        (gw / sub).mkdir(parents=True, exist_ok=True)
    for shared_dir in (env["BLOB_STORAGE_PATH"], env["DOWNLOAD_LOG_DIR"], gw / "state"):
        Path(shared_dir).mkdir(parents=True, exist_ok=True)
    template = (ROOT / "deploy" / "gateway" / "default.conf.template").read_text()
    values = {f"{s.upper()}_UPSTREAM": f"127.0.0.1:{env[f'{s.upper()}_PORT']}" for s in SERVICES}
    values["WEB_UPSTREAM"] = f"127.0.0.1:{env['WEB_PORT']}"
    values.update(GATEWAY_PORT=f"127.0.0.1:{env['GATEWAY_PORT']}",
                  GATEWAY_CONTROL_PORT=f"127.0.0.1:{env['GATEWAY_CONTROL_PORT']}",
                  GATEWAY_JS_DIR=str(ROOT / "deploy" / "gateway" / "njs"), BLOB_STORAGE_PATH=env["BLOB_STORAGE_PATH"],
                  DOWNLOAD_LOG_DIR=env["DOWNLOAD_LOG_DIR"], GATEWAY_STATE_DIR=str(gw / "state"),
                  SERVICE_TOKEN=env["SERVICE_TOKEN"], GEOIP_COUNTRY_FILE=_geoip_file(env, gw),
                  WEB_TRUSTED_FILE=_web_trusted_file(env, gw))
    server = gateway_config.render_local(template, values)
    conf = gw / "nginx.conf"
    # nginx started as root runs its workers as `nobody`, who cannot read var/ (often under a
    # private directory); a local run as root keeps the workers as the user that owns var/.
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf.write_text(f"""# Local gateway of `make run`, rendered from deploy/gateway/default.conf.template.
load_module {njs_module()};
{user}worker_processes {env.get('GATEWAY_WORKERS', '2')};
pid {gw}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    client_body_temp_path {gw}/tmp/client_body;
    proxy_temp_path {gw}/tmp/proxy;
    fastcgi_temp_path {gw}/tmp/fastcgi;
    uwsgi_temp_path {gw}/tmp/uwsgi;
    scgi_temp_path {gw}/tmp/scgi;
    types {{ application/octet-stream bin; }}
{server}
}}
""")
    return conf


def readiness_urls(env: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    urls = {}
    for name in names:
        if name == "gateway":
            urls[name] = f"http://127.0.0.1:{env['GATEWAY_PORT']}/livez"
        elif name == "web":
            urls[name] = f"http://127.0.0.1:{env['WEB_PORT']}/readyz"
        elif name.endswith("-api"):
            svc = name[: -len("-api")].upper()
            urls[name] = f"http://127.0.0.1:{env[f'{svc}_PORT']}/readyz"
        elif name.endswith("-worker") or name.endswith("-relay"):
            svc, kind = name.rsplit("-", 1)
            urls[name] = f"http://127.0.0.1:{env[f'{svc.upper()}_{kind.upper()}_HEALTH_PORT']}/readyz"
    return urls


@dataclass
class Process:
    name: str
    command: str
    popen: subprocess.Popen | None = None
    log_path: Path | None = None


@dataclass
class LocalPlatform:
    """The Procfile's processes with one environment. Start, wait until ready, stop."""

    var_dir: Path
    overrides: dict[str, str] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    log_to_files: bool = False  # tests keep each process's output in var/logs/<name>.log

    def __post_init__(self) -> None:
        self.var_dir = Path(self.var_dir).resolve()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.env = platform_env(self.var_dir, self.overrides)
        self.processes = {name: Process(name, cmd) for name, cmd in parse_procfile().items()
                          if name not in self.exclude}
        self._printers: list[threading.Thread] = []

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.env['GATEWAY_PORT']}"

    def service_env(self, svc: str) -> dict[str, str]:
        env = self.process_env(svc)
        env["DATABASE_URL"] = env[f"{svc.upper()}_DATABASE_URL"]
        return env

    def process_env(self, name: str) -> dict[str, str]:
        """The environment of process ``name`` (``catalog-worker``, or a service's name): the
        platform's, with the service's own broker account as ``AMQP_URL`` when
        ``<SERVICE>_AMQP_URL`` gives one (one broker user per service; otherwise every
        process shares ``AMQP_URL``)."""
        env = dict(self.env)
        svc = name.split("-", 1)[0]
        own = env.get(f"{svc.upper()}_AMQP_URL") if svc in SERVICES else None
        if own:
            env["AMQP_URL"] = own
        return env

    def migrate(self) -> None:
        """``python -m <service> migrate`` for every service (databases and broker topology)."""
        for svc in SERVICES:
            result = subprocess.run([sys.executable, "-m", svc, "migrate"], cwd=ROOT, env=self.service_env(svc),
                                    capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"{svc} migrate failed:\n{result.stderr[-4000:]}")

    def start(self, names: Iterable[str] | None = None) -> None:
        if "gateway" in self.processes:
            render_gateway(self.env)
        (self.var_dir / "logs").mkdir(exist_ok=True)
        for name in names or list(self.processes):
            self._spawn(self.processes[name])

    def _spawn(self, proc: Process) -> None:
        if proc.name == "gateway":
            forget_kept_answers(self.env)
        if self.log_to_files:
            proc.log_path = self.var_dir / "logs" / f"{proc.name}.log"
            out = open(proc.log_path, "ab")  # noqa: SIM115 - owned by the child
            proc.popen = subprocess.Popen(["bash", "-c", proc.command], cwd=ROOT, env=self.process_env(proc.name),
                                          stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            out.close()
            return
        proc.popen = subprocess.Popen(["bash", "-c", proc.command], cwd=ROOT, env=self.process_env(proc.name),
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        width = max(len(n) for n in self.processes)
        thread = threading.Thread(target=_prefix_output, args=(proc, width), daemon=True)
        thread.start()
        self._printers.append(thread)

    def wait_ready(self, timeout: float = 60.0, names: Iterable[str] | None = None) -> None:
        pending = readiness_urls(self.env, names or self.processes)
        deadline = time.monotonic() + timeout
        while pending:
            for name, url in list(pending.items()):
                proc = self.processes[name]
                if proc.popen is not None and proc.popen.poll() is not None:
                    raise RuntimeError(f"{name} exited with status {proc.popen.returncode}" + self._tail(proc))
                if _http_ok(url):
                    del pending[name]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f}s: {', '.join(sorted(pending))}"
                                   + "".join(self._tail(self.processes[n]) for n in pending))
            time.sleep(0.1)

    def _tail(self, proc: Process) -> str:
        if proc.log_path and proc.log_path.exists():
            return f"\n--- {proc.name} ---\n" + proc.log_path.read_text(errors="replace")[-3000:]
        return ""

    def stop(self, names: Iterable[str] | None = None, timeout: float = 20.0) -> None:
        targets = [self.processes[n] for n in (names or self.processes)]
        for proc in targets:
            if proc.popen is not None and proc.popen.poll() is None:
                _signal_group(proc.popen, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in targets:
            if proc.popen is None:
                continue
            try:
                proc.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc.popen, signal.SIGKILL)
                proc.popen.wait(5)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.processes[name]
        if proc.popen is not None and proc.popen.poll() is None:
            _signal_group(proc.popen, sig)
            proc.popen.wait(20)

    def restart(self, name: str) -> None:
        self.kill(name, signal.SIGTERM)
        self._spawn(self.processes[name])
        self.wait_ready(names=[name])


def _signal_group(popen: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(popen.pid, sig)
    except ProcessLookupError:
        pass


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


def _prefix_output(proc: Process, width: int) -> None:
    assert proc.popen is not None and proc.popen.stdout is not None
    prefix = f"{proc.name:<{width}} | "
    for raw in iter(proc.popen.stdout.readline, b""):
        sys.stdout.write(prefix + raw.decode(errors="replace"))
        sys.stdout.flush()

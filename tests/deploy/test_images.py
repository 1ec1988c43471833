"""The container images: one per service, the gateway's, and what goes into their build context."""

from __future__ import annotations

import posixpath
import re
import subprocess
import sys
import tomllib

import pytest

BUILD_TOOLS = re.compile(r"\b(build-essential|gcc|g\+\+|make|cargo|rustc|python3-dev|libpq-dev)\b")


def _parse_copy(rest: str) -> tuple[list[str], str, dict[str, str]]:
    """A COPY instruction's (sources, destination, flags)."""
    words = rest.split()
    flags = dict(w[2:].split("=", 1) for w in words if w.startswith("--"))
    paths = [w for w in words if not w.startswith("--")]
    return paths[:-1], paths[-1], flags


def _copies(df, stage: int = -1) -> list[tuple[list[str], str, dict[str, str]]]:
    return [_parse_copy(rest) for rest in df.instructions("COPY", stage)]


def _workdir_at(df, stage: int, index: int) -> str:
    workdir = "/"
    for instruction, rest in df.stages[stage][:index]:
        if instruction == "WORKDIR":
            workdir = posixpath.join(workdir, rest)
    return workdir


def test_each_service_has_a_multi_stage_image_on_python_311_slim(service, root, dockerfile):
    df = dockerfile(root / "services" / service / "Dockerfile")
    assert len(df.stages) >= 2, "build the wheels in one stage, run from another"
    assert re.match(r"^python:3\.11-slim(-\w+)?$", df.base()), df.base()
    runtime = " ".join(df.instructions("RUN"))
    assert not BUILD_TOOLS.search(runtime), "no build tools in the final image"
    assert "pip wheel" not in runtime and "pip wheel" in " ".join(df.instructions("RUN", 0))


def test_service_images_run_as_a_fixed_unprivileged_user(service, root, dockerfile):
    df = dockerfile(root / "services" / service / "Dockerfile")
    users = df.instructions("USER")
    assert users, "the image must not run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) >= 1000, "a numeric UID, so that runAsNonRoot can verify it"
    # The code belongs to root: the process cannot change what it runs.
    for _sources, _dest, flags in _copies(df):
        assert "chown" not in flags


def test_service_images_write_no_bytecode_and_do_not_buffer_output(service, root, dockerfile):
    env = dockerfile(root / "services" / service / "Dockerfile").env()
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1"
    assert env.get("PYTHONUNBUFFERED") == "1"
    assert int(env.get("WEB_CONCURRENCY", "0")) >= 1, "a default number of API workers"
    # Only gunicorn keeps a multiprocess metrics directory; the worker and relay are single processes.
    assert "PROMETHEUS_MULTIPROC_DIR" not in env


def test_default_command_is_the_gunicorn_api_on_port_8000(service, root, dockerfile):
    df = dockerfile(root / "services" / service / "Dockerfile")
    cmd = df.cmd()
    assert cmd[0] == "gunicorn"
    assert cmd[-1] == f"{service}.app:create_app()"
    assert cmd[cmd.index("--config") + 1] == "python:packyard.gunicorn_conf"
    assert cmd[cmd.index("--bind") + 1] == "0.0.0.0:8000"
    assert "8000" in df.instructions("EXPOSE")[-1].split()
    assert "def create_app(" in (root / "services" / service / service / "app.py").read_text()


def test_migrate_finds_alembic_ini_beside_the_package_in_the_image(service, root, dockerfile):
    """``python -m <service> migrate`` reads ``Path(__main__.py).parent.parent / "alembic.ini"``."""
    df = dockerfile(root / "services" / service / "Dockerfile")
    placed: dict[str, str] = {}
    for i, (instruction, rest) in enumerate(df.stages[-1]):
        if instruction != "COPY":
            continue
        sources, dest, flags = _parse_copy(rest)
        if "from" in flags:
            continue
        target = posixpath.normpath(posixpath.join(_workdir_at(df, -1, i), dest))
        for source in sources:
            placed[source.rstrip("/")] = target
    svc = f"services/{service}"
    package_dir = placed[f"{svc}/{service}"]
    app_root = posixpath.dirname(package_dir)
    assert posixpath.basename(package_dir) == service
    assert placed[f"{svc}/alembic.ini"] in (app_root, posixpath.join(app_root, "alembic.ini"))
    assert placed[f"{svc}/migrations"] == posixpath.join(app_root, "migrations")
    assert app_root in df.env().get("PYTHONPATH", "").split(":"), "the package is importable from anywhere"


def test_every_file_an_image_copies_is_in_the_build_context(root, dockerfile, docker_ignored, services):
    files = [root / "services" / s / "Dockerfile" for s in services] + [root / "deploy/gateway/Dockerfile"]
    for path in files:
        df = dockerfile(path)
        for stage in range(len(df.stages)):
            for sources, _dest, flags in _copies(df, stage):
                if "from" in flags:
                    continue
                for source in sources:
                    source = source.rstrip("/")
                    assert (root / source).exists(), f"{path}: COPY {source} does not exist"
                    assert not docker_ignored(source), f"{path}: COPY {source} is excluded by .dockerignore"
                    if (root / source).is_dir():
                        kept = [p for p in (root / source).rglob("*.py")
                                if not docker_ignored(str(p.relative_to(root)))]
                        assert kept or not list((root / source).rglob("*.py")), f"{source}: every file is excluded"


@pytest.mark.parametrize("path", [
    ".git/HEAD", ".venv/bin/python", "var/identity.db", "var/blobs/ab/cd/abcd", "docs/events.md",
    "services/identity/tests/test_accounts.py", "shared/tests/conftest.py", "tests/e2e/test_x.py",
    "services/identity/packyard_identity.egg-info/PKG-INFO", "shared/packyard/__pycache__/db.cpython-311.pyc",
])
def test_the_build_context_leaves_out_local_state_and_tests(path, docker_ignored):
    assert docker_ignored(path)


@pytest.mark.parametrize("path", [
    "shared/pyproject.toml", "shared/packyard/db.py", "services/catalog/pyproject.toml",
    "services/catalog/alembic.ini", "services/catalog/migrations/env.py", "services/catalog/catalog/app.py",
    "deploy/gateway/default.conf.template",
])
def test_the_build_context_keeps_what_images_install(path, docker_ignored):
    assert not docker_ignored(path)


def test_the_dependency_list_step_reads_the_real_pyproject(service, root, dockerfile):
    """The build stage's one-liner that lists the service's dependencies runs and skips packyard-*."""
    df = dockerfile(root / "services" / service / "Dockerfile")
    run = next(r for r in df.instructions("RUN", 0) if r.startswith("python -c"))
    program = re.match(r"python -c '([^']*)'", run).group(1)
    listed = subprocess.run([sys.executable, "-c", program, f"services/{service}/pyproject.toml"],
                            cwd=root, capture_output=True, text=True, check=True).stdout.split()
    declared = tomllib.loads((root / "services" / service / "pyproject.toml").read_text())["project"]["dependencies"]
    assert listed == [d for d in declared if not d.startswith("packyard-")]


def test_signing_images_carry_gpg(root, dockerfile, services):
    if "signing" not in services:
        pytest.skip("no signing service yet")
    runtime = " ".join(dockerfile(root / "services/signing/Dockerfile").instructions("RUN"))
    assert re.search(r"apt-get install .*\bgpg\b.*\bgpg-agent\b", runtime), "python-gnupg runs the gpg binary"


def test_the_gateway_image_is_unprivileged_nginx_with_the_route_template(root, dockerfile, gateway_template_variables):
    df = dockerfile(root / "deploy/gateway/Dockerfile")
    assert df.base().startswith("nginxinc/nginx-unprivileged:")
    copies = {sources[0]: dest for sources, dest, _ in _copies(df)}
    assert copies["deploy/gateway/default.conf.template"] == "/etc/nginx/templates/default.conf.template"
    env = df.env()
    assert env["GATEWAY_PORT"] == "8080"
    assert "8080" in df.instructions("EXPOSE")[-1].split()
    assert df.instructions("USER")[-1] not in ("0", "root")
    # The entrypoint substitutes only the variables the filter matches (awk ERE): all of the
    # template's, so that nginx's own $variables are never touched.
    substituted = re.compile(env["NGINX_ENVSUBST_FILTER"])
    for name in gateway_template_variables:
        assert substituted.search(name), f"${{{name}}} would not be substituted"
    for name in ("HOME", "HOSTNAME", "PATH", "NGINX_VERSION"):
        assert not substituted.search(name)

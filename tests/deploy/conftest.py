"""Fixtures for the checks of the deployment files: images, docker-compose.yml, Kubernetes.

These are file checks (no container engine is needed): they read the Procfile, the
Dockerfiles, the compose file and the Kustomize directories, and compare them with what the
services really declare — each service's ``Settings`` (``<service>.config.Settings``) and its
command line. Services are the directories under ``services/`` that have a ``pyproject.toml``,
so a service that does not exist yet is simply not checked.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"

# Variables a process reads outside its Settings: gunicorn's (packyard.gunicorn_conf) and the
# Prometheus client's.
PROCESS_VARIABLES = {"WEB_CONCURRENCY", "WEB_THREADS", "GUNICORN_TIMEOUT", "PROMETHEUS_MULTIPROC_DIR"}


def existing_services() -> list[str]:
    """Services with a database, migrations, a worker and a relay; the web pages (services/web, an
    API client without any of these) have their own checks in test_web.py."""
    return sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml")
                  if (p.parent / "alembic.ini").exists())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "service" in metafunc.fixturenames:
        metafunc.parametrize("service", existing_services())


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def services() -> list[str]:
    return existing_services()


@pytest.fixture(scope="session")
def procfile() -> dict[str, str]:
    """The Procfile's processes: ``name: command`` lines (comments and blank lines ignored)."""
    processes: dict[str, str] = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line)
        assert match, f"bad Procfile line: {line!r}"
        processes[match.group(1)] = match.group(2)
    return processes


@pytest.fixture(scope="session")
def command_words() -> Callable[[str | list[str]], list[str]]:
    """A command as words, without the leading ``NAME=value`` assignments of a Procfile line."""
    def words(command: str | list[str]) -> list[str]:
        tokens = shlex.split(command) if isinstance(command, str) else list(command)
        while tokens and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", tokens[0]):
            tokens.pop(0)
        return tokens

    return words


@pytest.fixture(scope="session")
def settings_of() -> Callable[[str], type]:
    """``<service>.config.Settings``."""
    def load(service: str) -> type:
        return importlib.import_module(f"{service}.config").Settings

    return load


@pytest.fixture(scope="session")
def local_path_settings() -> Callable[[str], set[str]]:
    """Variables of a service whose default is a path under ``var/``: right for a local run,
    wrong in a container, whose working directory is read-only code."""
    def names(service: str) -> set[str]:
        settings = importlib.import_module(f"{service}.config").Settings
        out = set()
        for field in dataclasses.fields(settings):
            var = field.metadata.get("packyard_env")
            if var is not None and isinstance(var.default, str) and var.default.startswith(("var/", "./var/")):
                out.add(var.name)
        return out

    return names


@pytest.fixture(scope="session")
def gateway_template_variables() -> set[str]:
    text = (ROOT / "deploy" / "gateway" / "default.conf.template").read_text()
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", text))


# -- Dockerfiles ---------------------------------------------------------------------------------

class Dockerfile:
    """The instructions of a Dockerfile, by stage (continuation lines joined, comments dropped)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        text = re.sub(r"\\\n", " ", path.read_text())
        self.stages: list[list[tuple[str, str]]] = []
        self.args: dict[str, str] = {}
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            instruction, _, rest = line.partition(" ")
            instruction = instruction.upper()
            if instruction == "FROM":
                self.stages.append([])
            if not self.stages:
                if instruction == "ARG" and "=" in rest:
                    name, _, value = rest.partition("=")
                    self.args[name.strip()] = value.strip()
                continue
            self.stages[-1].append((instruction, rest.strip()))

    def base(self, stage: int = -1) -> str:
        image = self.stages[stage][0][1].split()[0]
        return re.sub(r"\$\{(\w+)\}", lambda m: self.args.get(m.group(1), m.group(0)), image)

    def instructions(self, name: str, stage: int = -1) -> list[str]:
        return [rest for instruction, rest in self.stages[stage] if instruction == name]

    def env(self, stage: int = -1) -> dict[str, str]:
        out: dict[str, str] = {}
        for rest in self.instructions("ENV", stage):
            for word in shlex.split(rest):
                name, _, value = word.partition("=")
                out[name] = value
        return out

    def cmd(self) -> list[str] | None:
        cmds = self.instructions("CMD")
        if not cmds:
            return None
        return yaml.safe_load(cmds[-1])  # exec form: a JSON array


@pytest.fixture(scope="session")
def dockerfile() -> Callable[[Path], Dockerfile]:
    return Dockerfile


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            if pattern[i + 1:i + 2] == "*":
                i += 1
                if pattern[i + 1:i + 2] == "/":
                    i += 1
                    out += "(.*/)?"
                else:
                    out += ".*"
            else:
                out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            end = pattern.index("]", i)
            out += pattern[i:end + 1]
            i = end
        else:
            out += re.escape(c)
        i += 1
    return re.compile(f"^{out}$")


@pytest.fixture(scope="session")
def docker_ignored() -> Callable[[str], bool]:
    """Whether ``.dockerignore`` keeps a path (relative to the root) out of the build context.

    Docker's rules: the last pattern matching the path or one of its parent directories wins;
    ``!`` re-includes; ``*`` stays within one path segment, ``**`` crosses them.
    """
    patterns: list[tuple[re.Pattern[str], bool]] = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        include = line.startswith("!")
        line = line.lstrip("!").strip().strip("/")
        patterns.append((_pattern_regex(line), include))

    def ignored(path: str) -> bool:
        parts = path.strip("/").split("/")
        candidates = ["/".join(parts[:i + 1]) for i in range(len(parts))]
        excluded = False
        for regex, include in patterns:
            if any(regex.match(candidate) for candidate in candidates):
                excluded = not include
        return excluded

    return ignored


# -- compose ---------------------------------------------------------------------------------

def interpolate(value: Any, environ: dict[str, str] | None = None) -> Any:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME-default}``, from ``environ`` (default: empty)."""
    environ = environ or {}
    if isinstance(value, dict):
        return {k: interpolate(v, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, environ) for v in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name, op, default = match.group(1), match.group(2), match.group(3) or ""
        if op == ":-":
            return environ.get(name) or default
        if op == "-":
            return environ.get(name, default)
        if name not in environ:
            raise AssertionError(f"${{{name}}} has no default in docker-compose.yml")
        return environ[name]

    return re.sub(r"\$\{(\w+)(?:(:?-)([^}]*))?\}", replace, value.replace("$$", "\0")).replace("\0", "$")


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """docker-compose.yml as compose sees it with no .env file: anchors merged, variables defaulted."""
    return interpolate(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


@pytest.fixture(scope="session")
def compose_env(compose) -> Callable[[str], dict[str, str]]:
    def environment(name: str) -> dict[str, str]:
        env = compose["services"][name].get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) for item in env)
        return {k: "" if v is None else str(v) for k, v in env.items()}

    return environment


# -- Kustomize -------------------------------------------------------------------------------

class Kustomization:
    """A Kustomize directory read the way ``kustomize build`` reads it, for the fields used here.

    ``objects`` are the resources of the directory, of its components and of the directories
    it includes; ConfigMaps from ``configMapGenerator`` appear with their generator's name (no
    hash) and their data. Anything unresolvable fails with the reason.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        path = directory / "kustomization.yaml"
        assert path.is_file(), f"{directory} has no kustomization.yaml"
        self.spec = yaml.safe_load(path.read_text())
        self.objects: list[dict[str, Any]] = []
        self.files: list[Path] = [path]
        for entry in self.spec.get("resources", []):
            self._include(entry, component=False)
        for entry in self.spec.get("components", []):
            self._include(entry, component=True)
        for generator in self.spec.get("configMapGenerator", []):
            data: dict[str, str] = {}
            for env_file in generator.get("envs", []):
                data.update(read_env_file(self._local(env_file)))
            for literal in generator.get("literals", []):
                key, _, value = literal.partition("=")
                data[key] = value
            for file in generator.get("files", []):
                key, _, source = file.rpartition("=")
                source_path = self._local(source)
                data[key or source_path.name] = source_path.read_text()
            self.objects.append({"apiVersion": "v1", "kind": "ConfigMap",
                                 "metadata": {"name": generator["name"]}, "data": data})
        for patch in self.spec.get("patches", []):
            if "path" in patch:
                self._local(patch["path"])

    def _local(self, name: str) -> Path:
        path = (self.directory / name).resolve()
        assert path.is_file(), f"{self.directory / 'kustomization.yaml'}: {name} does not exist"
        assert self.directory.resolve() in path.parents, \
            f"{self.directory}: {name} is outside the kustomization (kustomize refuses to load it)"
        self.files.append(path)
        return path

    def _include(self, entry: str, *, component: bool) -> None:
        path = (self.directory / entry).resolve()
        if path.is_dir():
            sub = Kustomization(path)
            kind = sub.spec.get("kind", "Kustomization")
            assert (kind == "Component") == component, \
                f"{self.directory}: {entry} is a {kind}, listed under {'components' if component else 'resources'}"
            self.objects.extend(sub.objects)
            self.files.extend(sub.files)
            return
        assert not component, f"{self.directory}: component {entry} is not a directory"
        path = self._local(entry)
        for document in yaml.safe_load_all(path.read_text()):
            if document is None:
                continue
            for field in ("apiVersion", "kind", "metadata"):
                assert field in document, f"{path}: an object without {field}"
            assert document["metadata"].get("name"), f"{path}: a {document['kind']} without a name"
            document["__file__"] = path
            self.objects.append(document)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        found = [o for o in self.of_kind(kind) if o["metadata"]["name"] == name]
        assert found, f"{self.directory}: no {kind} named {name}"
        return found[0]


def read_env_file(path: Path) -> dict[str, str]:
    """A Kustomize env file: ``KEY=value`` lines; ``#`` comments and blank lines ignored."""
    data: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path}: not KEY=value: {line!r}"
        data[key.strip()] = value
    return data


@pytest.fixture(scope="session")
def kustomization() -> Callable[[str], Kustomization]:
    cache: dict[str, Kustomization] = {}

    def load(name: str) -> Kustomization:
        if name not in cache:
            cache[name] = Kustomization(K8S / name)
        return cache[name]

    return load


@pytest.fixture(scope="session")
def kustomize_command() -> list[str] | None:
    """``kustomize build`` or ``kubectl kustomize``, whichever is on PATH (None when neither is)."""
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


@dataclass(frozen=True)
class EnvSource:
    """Where a container's variable comes from: a literal (ConfigMap or manifest) or a Secret key."""

    value: str | None = None
    secret: str | None = None
    key: str | None = None
    optional: bool = False


@pytest.fixture(scope="session")
def container_env() -> Callable[[Kustomization, dict[str, Any]], dict[str, EnvSource]]:
    """The variables a container gets, from its ConfigMaps and its Secret references."""
    def env(kz: Kustomization, container: dict[str, Any]) -> dict[str, EnvSource]:
        out: dict[str, EnvSource] = {}
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                data = kz.get("ConfigMap", source["configMapRef"]["name"])["data"]
                out.update({name: EnvSource(value=value) for name, value in data.items()})
            else:
                raise AssertionError(f"{container['name']}: envFrom {source} hides which variables it provides")
        for item in container.get("env", []):
            value_from = item.get("valueFrom", {})
            if "value" in item:
                out[item["name"]] = EnvSource(value=str(item["value"]))
            elif "secretKeyRef" in value_from:
                ref = value_from["secretKeyRef"]
                out[item["name"]] = EnvSource(secret=ref["name"], key=ref["key"],
                                              optional=bool(ref.get("optional", False)))
            elif "configMapKeyRef" in value_from:
                ref = value_from["configMapKeyRef"]
                out[item["name"]] = EnvSource(value=kz.get("ConfigMap", ref["name"])["data"][ref["key"]])
            else:
                raise AssertionError(f"{container['name']}: unsupported source of {item['name']}")
        return out

    return env

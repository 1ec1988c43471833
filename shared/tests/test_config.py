import subprocess
import sys
from dataclasses import dataclass

import pytest

from packyard.config import ConfigError, describe, env, load_settings, required_variables


@dataclass(frozen=True)
class Settings:
    database_url: str = env("DATABASE_URL")
    token: str = env("API_TOKEN", secret=True)
    workers: int = env("WORKERS", default=2)
    debug: bool = env("DEBUG", default=False)
    origins: tuple[str, ...] = env("ORIGINS", default=())
    ratio: float = env("RATIO", default=0.5)


def test_values_are_converted_to_their_declared_types():
    s = load_settings(Settings, {"DATABASE_URL": "sqlite://", "API_TOKEN": "s3cr3t-value", "WORKERS": "4",
                                 "DEBUG": "yes", "ORIGINS": "a, b,", "RATIO": "0.25"})
    assert (s.workers, s.debug, s.origins, s.ratio) == (4, True, ("a", "b"), 0.25)


def test_every_missing_required_variable_is_named():
    with pytest.raises(ConfigError) as exc:
        load_settings(Settings, {"WORKERS": "3"})
    assert "DATABASE_URL" in str(exc.value) and "API_TOKEN" in str(exc.value)


def test_a_value_that_does_not_convert_names_the_variable_and_type():
    with pytest.raises(ConfigError, match="WORKERS must be an integer"):
        load_settings(Settings, {"DATABASE_URL": "x", "API_TOKEN": "s3cr3t-value", "WORKERS": "many"})
    with pytest.raises(ConfigError, match="DEBUG must be a boolean"):
        load_settings(Settings, {"DATABASE_URL": "x", "API_TOKEN": "s3cr3t-value", "DEBUG": "perhaps"})


def test_placeholder_secrets_are_refused_and_secrets_are_masked():
    with pytest.raises(ConfigError, match="API_TOKEN holds a placeholder"):
        load_settings(Settings, {"DATABASE_URL": "x", "API_TOKEN": "changeme"})
    s = load_settings(Settings, {"DATABASE_URL": "x", "API_TOKEN": "s3cr3t-value"})
    assert describe(s)["API_TOKEN"] == "***" and describe(s)["DATABASE_URL"] == "x"


def test_secrets_cannot_have_defaults_in_code():
    with pytest.raises(TypeError):
        env("SOME_SECRET", secret=True, default="hunter2")


def test_required_variables_lists_what_a_process_cannot_start_without():
    assert required_variables(Settings) == {"DATABASE_URL", "API_TOKEN"}


def test_a_process_missing_a_variable_stops_at_start_naming_it(tmp_path):
    result = subprocess.run([sys.executable, "-m", "identity", "worker"], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "AMQP_URL": "amqp://localhost",
                                 "SECRET_KEY": "x" * 40}, timeout=60)
    assert result.returncode == 2
    assert "missing required environment variable DATABASE_URL" in result.stderr

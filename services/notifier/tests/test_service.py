import re

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from notifier.__main__ import ALEMBIC_INI, run
from notifier.config import Settings
from notifier.models import metadata
from packyard.config import ConfigError, load_settings
from packyard.migrations import upgrade
from packyard.testing import SERVICE_TOKEN


def _diff(url):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_migrations_match_the_models_on_postgresql(database_url):
    assert _diff(database_url) == []


def test_migrations_run_on_sqlite_and_match_the_models(tmp_path):
    url = f"sqlite:///{tmp_path}/notifier.db"
    upgrade(ALEMBIC_INI, url)
    upgrade(ALEMBIC_INI, url)  # idempotent
    assert _diff(url) == []


def test_health_metrics_and_openapi_are_served(client):
    assert client.get("/livez").json == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"]["database"] == "ok"
    assert client.get("/metrics").status_code == 200
    paths = client.get("/openapi/notifier.json").json["paths"]
    assert {"/me/notifications", "/me/notifications/read_all", "/me/notifications/{notification_id}/read",
            "/me/notifications/{notification_id}"} <= set(paths)


def test_a_missing_mail_token_key_stops_the_process_naming_it(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///unused.db")
    monkeypatch.setenv("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
    monkeypatch.delenv("MAIL_TOKEN_KEY", raising=False)
    with pytest.raises(SystemExit) as stopped:
        run(["worker"])
    assert stopped.value.code == 2
    assert "MAIL_TOKEN_KEY" in capsys.readouterr().err


@pytest.mark.parametrize("variable, value, complaint", [
    ("MAIL_TOKEN_KEY", "not-a-fernet-key", "MAIL_TOKEN_KEY must be Fernet keys"),
    ("MAIL_TOKEN_KEY", "changeme", "placeholder"),
    ("PUBLIC_BASE_URL", "packyard.example.org", "PUBLIC_BASE_URL must be an http(s) URL"),
    ("MAIL_FROM", "Packyard", "MAIL_FROM must be an email address"),
    ("SMTP_PASSWORD", "s3cr3t-password-value", "SMTP_USERNAME and SMTP_PASSWORD go together"),
])
def test_unusable_settings_are_refused_with_a_message_naming_them(mail_key, variable, value, complaint):
    environ = {"DATABASE_URL": "sqlite:///unused.db", "AMQP_URL": "amqp://localhost/",
               "JWKS_URL": "http://identity.invalid/jwks", "MAIL_TOKEN_KEY": mail_key,
               "SERVICE_TOKEN": SERVICE_TOKEN, variable: value}
    with pytest.raises(ConfigError, match=re.escape(complaint)):
        load_settings(Settings, environ)


def test_several_mail_token_keys_are_accepted_for_rotation(mail_key):
    from cryptography.fernet import Fernet

    from notifier.mail.tokens import MailTokenCipher

    old = Fernet.generate_key().decode()
    settings = load_settings(Settings, {"DATABASE_URL": "sqlite:///unused.db", "AMQP_URL": "amqp://localhost/",
                                        "JWKS_URL": "http://identity.invalid/jwks",
                                        "MAIL_TOKEN_KEY": f"{mail_key}, {old}",
                                        "SERVICE_TOKEN": SERVICE_TOKEN})
    cipher = MailTokenCipher(settings.mail_token_key)
    assert cipher.decrypt(Fernet(old.encode()).encrypt(b"made-before-rotation").decode()) == "made-before-rotation"

"""MAIL_TOKEN_KEY in identity takes the documented form: one Fernet key, or several (newest first) while rotating."""

import pytest
from cryptography.fernet import Fernet, InvalidToken

from identity import config
from packyard.config import ConfigError


def test_identity_starts_with_rotated_keys_and_seals_reset_tokens_with_the_newest(make_identity, settings_for):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    ident = make_identity(mail_token_key=f"{new},{old}")
    client = ident_client(ident)
    assert client.post("/auth/signup", json={"username": "alice", "email": "alice@example.com",
                                             "password": "correct horse battery"}).status_code == 201
    assert client.post("/auth/password-reset", json={"email": "alice@example.com"}).status_code == 202
    [sealed] = outbox_data(ident, "identity.user.password_reset_requested")
    token = Fernet(new.encode()).decrypt(sealed["token_ciphertext"].encode())
    assert len(token) > 20
    with pytest.raises(InvalidToken):
        Fernet(old.encode()).decrypt(sealed["token_ciphertext"].encode())


def test_a_mail_token_key_list_holding_something_else_is_refused(settings_for):
    with pytest.raises(ConfigError, match="MAIL_TOKEN_KEY must be a Fernet key"):
        config.check(settings_for("sqlite://", mail_token_key=f"{Fernet.generate_key().decode()},not-a-key"))


def ident_client(ident):
    from identity.app import create_app

    return create_app(ident).test_client()


def outbox_data(ident, type_):
    import json

    import sqlalchemy as sa

    from identity.models import outbox

    with ident.platform.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.body).where(outbox.c.type == type_).order_by(outbox.c.id)).all()
    return [json.loads(row.body)["data"] for row in rows]

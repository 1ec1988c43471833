import time

import jwt
import pytest

from packyard.auth import InvalidToken, JwksVerifier
from packyard.testing import TokenMinter


class Source:
    """A JWKS endpoint we control: the keys it serves, how often it was asked, whether it is up."""

    def __init__(self, *minters):
        self.minters = list(minters)
        self.calls = 0
        self.up = True

    def __call__(self):
        self.calls += 1
        if not self.up:
            raise ConnectionError("identity is down")
        return {"keys": [k for m in self.minters for k in m.jwks()["keys"]]}


def test_keys_are_cached_between_verifications():
    minter = TokenMinter()
    source = Source(minter)
    verifier = JwksVerifier(source=source)
    for _ in range(5):
        assert verifier.verify(minter.token("alice")).username == "alice"
    assert source.calls == 1


def test_an_unknown_key_id_triggers_a_refresh():
    old, new = TokenMinter(), TokenMinter()
    source = Source(old)
    verifier = JwksVerifier(source=source, min_refresh_interval=0)
    verifier.verify(old.token("alice"))
    source.minters.append(new)  # identity rotated its keys
    assert verifier.verify(new.token("bob")).username == "bob"
    assert source.calls == 2


def test_cached_keys_keep_working_while_identity_is_down():
    minter = TokenMinter()
    source = Source(minter)
    verifier = JwksVerifier(source=source, cache_ttl=0, min_refresh_interval=0)
    verifier.verify(minter.token("alice"))
    source.up = False
    assert verifier.verify(minter.token("alice")).username == "alice"


def test_garbage_tokens_are_refused_without_hammering_identity():
    minter = TokenMinter()
    source = Source(minter)
    verifier = JwksVerifier(source=source, min_refresh_interval=60)
    verifier.verify(minter.token("alice"))
    for _ in range(20):
        with pytest.raises(InvalidToken):
            verifier.verify(TokenMinter().token("mallory"))
    assert source.calls == 1


def test_expired_and_malformed_tokens_are_refused():
    minter = TokenMinter()
    verifier = JwksVerifier(source=Source(minter), leeway=0)
    with pytest.raises(InvalidToken):
        verifier.verify(minter.token("alice", ttl=-60))
    with pytest.raises(InvalidToken):
        verifier.verify("not.a.token")


def test_claims_become_the_principal():
    minter = TokenMinter()
    principal = JwksVerifier(source=Source(minter)).verify(
        minter.token("root", "u-1", admin=True, method="password", auth_time=1700000000))
    assert (principal.username, principal.user_id, principal.admin, principal.method, principal.auth_time) == \
        ("root", "u-1", True, "password", 1700000000)


def test_a_token_verified_once_is_not_verified_again_until_it_expires(monkeypatch):
    minter = TokenMinter()
    verifier = JwksVerifier(source=Source(minter), leeway=0)
    token = minter.token("alice")
    decoded = []
    real_decode = jwt.decode
    with monkeypatch.context() as patch:
        patch.setattr(jwt, "decode", lambda *a, **kw: decoded.append(1) or real_decode(*a, **kw))
        for _ in range(5):
            assert verifier.verify(token).username == "alice"
    assert len(decoded) == 1  # identity answers the same token again: its signature is checked once

    soon = minter.token("bob", ttl=2)
    assert verifier.verify(soon).username == "bob"
    expiry = jwt.decode(soon, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expiry - time.time()) + 0.1)
    with pytest.raises(InvalidToken):
        verifier.verify(soon)  # remembered, but expired since


def test_a_remembered_token_is_refused_once_its_key_is_gone():
    old, new = TokenMinter(), TokenMinter()
    source = Source(old)
    verifier = JwksVerifier(source=source, cache_ttl=0, min_refresh_interval=0)
    token = old.token("alice")
    assert verifier.verify(token).username == "alice"
    source.minters = [new]  # identity dropped the key that signed it
    with pytest.raises(InvalidToken):
        verifier.verify(token)

from packyard.testing import SERVICE_TOKEN


def test_api_key_lifecycle_and_basic_auth(api):
    api.signup("alice")
    me = api.as_gateway(f"Bearer {api.login()}")
    created = api.client.post("/me/apikey", headers=me)
    assert created.status_code == 201
    key = created.json["api_key"]
    assert len(key) == 40
    assert api.client.post("/me/apikey", headers=me).status_code == 409
    assert api.client.get("/me/apikey", headers=me).json == {"api_key": key}
    assert api.authn(api.basic("alice", key)).status_code == 200
    assert [e["type"] for e in api.events()][-1] == "identity.api_key.issued"

    assert api.client.delete("/me/apikey", headers=me).json == {"message": "success"}
    assert api.authn(api.basic("alice", key)).status_code == 401
    assert api.client.get("/me/apikey", headers=me).status_code == 404
    assert [e["type"] for e in api.events()][-1] == "identity.api_key.revoked"


def test_api_key_of_another_user_does_not_authenticate_as_me(api):
    api.signup("alice")
    api.signup("bob")
    bob = api.as_gateway(f"Bearer {api.login('bob')}")
    key = api.client.post("/me/apikey", headers=bob).json["api_key"]
    assert api.authn(api.basic("alice", key)).status_code == 401
    assert api.authn(api.basic("bob", key)).status_code == 200


def test_api_key_endpoints_need_authentication(api):
    for method in ("get", "post", "delete"):
        response = getattr(api.client, method)("/me/apikey")
        assert response.status_code == 401
        assert response.json == {"message": "This resource requires authentication"}


def test_garbage_credentials_are_refused(api):
    for header in ("Basic !!!", "Basic " + "YWxpY2U=", "Bearer nonsense", "Digest abc", "Bearer "):
        assert api.authn(header).status_code == 401, header


def test_anonymous_requests_pass_authn_without_a_token(api):
    response = api.client.get("/internal/authn", headers={"X-Service-Token": SERVICE_TOKEN})
    assert response.status_code == 200
    assert "X-Packyard-Token" not in response.headers


def test_jwks_publishes_the_key_that_signs_access_tokens(api):
    import jwt

    api.signup("alice")
    headers = api.as_gateway(f"Bearer {api.login()}")
    token = headers["Authorization"].split()[1]
    jwks = api.client.get("/.well-known/jwks.json").json
    kid = jwt.get_unverified_header(token)["kid"]
    assert kid in [k["kid"] for k in jwks["keys"]]
    assert all("d" not in k for k in jwks["keys"])  # public halves only

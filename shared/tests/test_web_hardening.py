"""What every service's web layer refuses: calls to /internal/* without the service credential,
requests a browser could be tricked into sending, NUL characters in chunked JSON bodies."""

import io

import marshmallow as ma
import pytest
from flask.views import MethodView
from flask_smorest import Blueprint

from packyard.web import create_api

TOKEN = "a-service-token-of-at-least-32-characters"


class ThingSchema(ma.Schema):
    name = ma.fields.String(required=True)


def build(service_token=TOKEN):
    app, api = create_api(__name__, service="demo", service_token=service_token)
    blp = Blueprint("things", __name__)
    made = []

    @blp.route("/things")
    class Things(MethodView):
        @blp.arguments(ThingSchema)
        def post(self, body):
            made.append(body["name"])
            return {"name": body["name"]}, 201

    @blp.route("/upload")
    class Upload(MethodView):
        def put(self):
            return {"size": len(__import__("flask").request.get_data())}, 201

    @blp.route("/internal/decide")
    class Decide(MethodView):
        def get(self):
            return {"decided": True}

    @blp.route("/internal/things/<name>")
    class InternalThing(MethodView):
        def put(self, name):
            made.append(name)
            return {"name": name}

    api.register_blueprint(blp)
    return app, made


@pytest.fixture
def client():
    app, made = build()
    client = app.test_client()
    client.made = made
    return client


def test_internal_endpoints_answer_only_the_service_credential(client):
    assert client.get("/internal/decide").status_code == 401
    assert client.get("/internal/decide").json == {
        "message": "This endpoint is for Packyard's own services: send the service credential (X-Service-Token)"}
    assert client.get("/internal/decide", headers={"X-Service-Token": "wrong"}).status_code == 401
    assert client.get("/internal/decide", headers={"X-Service-Token": TOKEN[:-1]}).status_code == 401
    assert client.put("/internal/things/x").status_code == 401 and client.made == []
    assert client.get("/internal/decide", headers={"X-Service-Token": TOKEN}).json == {"decided": True}
    assert client.put("/internal/things/x", headers={"X-Service-Token": TOKEN}).status_code == 200
    # unknown internal paths, encoded or not, are refused before anything else happens
    assert client.get("/internal/nothing-here").status_code == 401
    assert client.get("/%69nternal/decide").status_code == 401
    # public endpoints need no credential
    assert client.post("/things", json={"name": "ok"}).status_code == 201


def test_a_service_built_without_a_credential_refuses_every_internal_call():
    app, _ = build(service_token=None)
    client = app.test_client()
    assert client.get("/internal/decide", headers={"X-Service-Token": ""}).status_code == 401
    assert client.get("/internal/decide", headers={"X-Service-Token": "None"}).status_code == 401


def test_cross_site_changes_are_refused_and_same_site_ones_pass(client):
    refused = client.post("/things", json={"name": "x"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403 and refused.json == {"message": "Cross-site requests may not change anything"}
    assert client.put("/upload", data=b"bytes", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert client.made == []
    for site in ("same-origin", "same-site", "none"):
        assert client.post("/things", json={"name": site}, headers={"Sec-Fetch-Site": site}).status_code == 201
    assert client.get("/things", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 405  # reads go on


@pytest.mark.parametrize("content_type, data", [
    ("application/x-www-form-urlencoded", "name=x"),
    ("multipart/form-data; boundary=b", '--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n'),
    ("text/plain", '{"name": "x"}'),
])
def test_a_form_sent_to_a_json_endpoint_is_refused(client, content_type, data):
    response = client.post("/things", data=data, content_type=content_type)
    assert response.status_code == 415
    assert response.json == {"message": "This endpoint takes a JSON body: send it as Content-Type: application/json"}
    assert client.made == []
    # an endpoint taking any bytes still takes them
    assert client.put("/upload", data=data, content_type=content_type).status_code == 201


def test_a_chunked_json_body_with_a_nul_is_refused(client):
    body = b'{"name": "a\\u0000b"}'
    response = client.post("/things", input_stream=io.BytesIO(body), content_type="application/json",
                           headers={"Transfer-Encoding": "chunked"}, environ_base={"wsgi.input_terminated": True})
    assert response.status_code == 400 and client.made == []
    fine = client.post("/things", input_stream=io.BytesIO(b'{"name": "ab"}'), content_type="application/json",
                       headers={"Transfer-Encoding": "chunked"}, environ_base={"wsgi.input_terminated": True})
    assert fine.status_code == 201 and client.made == ["ab"]

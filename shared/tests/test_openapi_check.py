"""The response check finds answers that disagree with the OpenAPI document, and passes those that agree."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from typing import Any

import flask
import marshmallow as ma
import pytest
from flask.views import MethodView
from flask_smorest import Blueprint

from packyard.testing.openapi import ResponseCheck, openapi_to_json_schema
from packyard.web import create_api


class ThingSchema(ma.Schema):
    name = ma.fields.String(required=True)
    size = ma.fields.Integer(allow_none=True)


def make_app(answer: dict[str, Any]) -> flask.Flask:
    """An app whose GET /things/<name> answers ``answer['body']`` with ``answer['status']``."""
    app, api = create_api(__name__, service="things")
    blp = Blueprint("things", __name__)

    @blp.route("/things/<string:name>")
    class Thing(MethodView):
        @blp.alt_response(200, schema=ThingSchema, success=True)
        def get(self, name: str) -> Any:
            return flask.jsonify(answer["body"]), answer["status"]

        @blp.response(204)
        def delete(self, name: str) -> Any:
            return None

    api.register_blueprint(blp)
    return app


@pytest.fixture
def check():
    found = ResponseCheck()
    found.start()
    yield found
    found.stop()


def test_an_answer_matching_its_schema_passes(check):
    client = make_app({"body": {"name": "a", "size": None}, "status": 200}).test_client()
    assert client.get("/things/a").status_code == 200
    assert client.delete("/things/a").status_code == 204
    assert client.get("/livez").status_code == 200
    assert check.mismatches == [] and check.checked == 2


def test_an_undocumented_field_is_a_mismatch(check):
    make_app({"body": {"name": "a", "colour": "red"}, "status": 200}).test_client().get("/things/a")
    [mismatch] = check.mismatches
    assert mismatch.startswith("GET /things/a → 200: the body does not match its schema") and "colour" in mismatch


def test_a_missing_required_field_and_a_wrong_type_are_mismatches(check):
    make_app({"body": {"size": "big"}, "status": 200}).test_client().get("/things/a")
    [mismatch] = check.mismatches
    assert "name" in mismatch and "big" in mismatch


def test_an_undocumented_success_status_is_a_mismatch(check):
    make_app({"body": {"name": "a"}, "status": 201}).test_client().get("/things/a")
    assert check.mismatches == ["GET /things/a → 201: status 201 is not documented (documented: 200, default)"]


def test_an_error_must_have_the_error_shape(check):
    client = make_app({"body": {"error": "no"}, "status": 409}).test_client()
    client.get("/things/a")
    assert len(check.mismatches) == 1 and "message" in check.mismatches[0]
    check.mismatches.clear()
    client.get("/things/a/nothing")  # not a route: unmatched URLs are not the API's
    client.post("/things/a")  # 405, {"message": ...}
    assert check.mismatches == []


def test_nullable_admits_null_only_where_declared():
    schema = openapi_to_json_schema({"type": "object", "properties": {
        "a": {"type": "string", "nullable": True}, "b": {"type": "string"}}})
    assert schema["properties"]["a"]["type"] == ["string", "null"]
    assert schema["properties"]["b"]["type"] == "string"


def test_a_write_only_field_is_not_required_in_an_answer_and_may_not_appear_in_one():
    schema = openapi_to_json_schema({"type": "object", "required": ["url", "token"], "properties": {
        "url": {"type": "string"}, "token": {"type": "string", "writeOnly": True}}})
    assert schema["required"] == ["url"] and schema["properties"]["token"] == {"not": {}}


def test_the_plugin_fails_a_test_whose_answers_disagree(tmp_path):
    (tmp_path / "test_things.py").write_text(textwrap.dedent("""
        import flask, marshmallow as ma
        from flask.views import MethodView
        from flask_smorest import Blueprint
        from packyard.web import create_api

        def test_undocumented_field(openapi_check):
            app, api = create_api(__name__, service="things")
            blp = Blueprint("things", __name__)

            class Out(ma.Schema):
                name = ma.fields.String()

            @blp.route("/things")
            class Things(MethodView):
                @blp.response(200, Out)
                def get(self):
                    return flask.jsonify(name="a", extra=1)

            api.register_blueprint(blp)
            assert app.test_client().get("/things").status_code == 200
    """))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_things.py"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "1 failed" in result.stdout, result.stdout + result.stderr
    assert "answers that disagree with the OpenAPI document" in result.stdout
    assert re.search(r"GET /things → 200: the body does not match its schema.*extra", result.stdout), result.stdout

"""URLs no service can look up answer 400, not 500."""

from flask.views import MethodView
from flask_smorest import Blueprint

from packyard.web import create_api


def test_a_nul_character_in_the_url_answers_400_before_any_view_runs():
    app, api = create_api(__name__, service="demo")
    blp = Blueprint("users", __name__)
    seen = []

    @blp.route("/users/<string:name>")
    class User(MethodView):
        def get(self, name):
            seen.append(name)
            return {"name": name}

    api.register_blueprint(blp)
    client = app.test_client()
    for url in ("/users/a%00b", "/users/alice?start_pos=%00", "/users/alice?a%00=1"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.json == {"message": "Invalid request: the URL contains a NUL character"}
        assert response.headers["X-Request-Id"]
    assert seen == []
    assert client.get("/users/alice?start_pos=0").json == {"name": "alice"}


def test_a_nul_character_anywhere_in_a_json_body_answers_400_before_any_view_runs():
    app, api = create_api(__name__, service="demo")
    blp = Blueprint("things", __name__)
    seen = []

    @blp.route("/things")
    class Things(MethodView):
        def post(self):
            seen.append(1)
            return {"ok": True}

    api.register_blueprint(blp)
    client = app.test_client()
    for body in ({"desc": "a\u0000b"}, {"a\u0000": 1}, [{"values": ["x", "y\u0000"]}]):
        response = client.post("/things", json=body)
        assert response.status_code == 400, body
        assert response.json == {"message": "Invalid request: text may not contain NUL characters"}
    assert seen == []
    assert client.post("/things", json={"desc": "fine"}).json == {"ok": True}

"""The landing page, user profiles, user search and organization pages."""

from __future__ import annotations

from typing import Any

import flask

from web.views.common import call, load, login_required, q, render, visitor

blp = flask.Blueprint("people", __name__)


def section(answer: Any) -> dict[str, Any]:
    """A page section: its data, or why there is none (``unavailable`` when its service is down)."""
    if answer is None:
        return {"state": "missing", "data": None}
    if answer.ok:
        return {"state": "ok", "data": answer.data, "total": answer.total}
    if answer.unavailable:
        return {"state": "unavailable", "data": None}
    return {"state": "missing", "data": None, "message": answer.message}


@blp.get("/")
def home() -> Any:
    answers = load({"popular": ("GET", "/stats/popular", {"params": {"days": 30, "limit": 10}, "public": True})})
    return render("home.html", popular=section(answers["popular"]), title="Packyard")


@blp.get("/ui/search")
def search() -> Any:
    text = flask.request.args.get("q", "").strip()[:100]
    users = packages = None
    if text:
        answers = load({
            "users": ("GET", "/search/users", {"params": {"name": text}}),
            "packages": ("GET", "/search/packages", {"params": {"name": text}}),
        })
        users, packages = section(answers["users"]), section(answers["packages"])
    return render("search.html", text=text, users=users, packages=packages, title="Search")


@blp.get("/ui/users/<username>")
def profile(username: str) -> Any:
    me = visitor().username
    own = me is not None and me.lower() == username.lower()
    calls: dict[str, tuple] = {
        "user": ("GET", f"/users/{q(username)}"),
        "repos": ("GET", f"/repos/{q(username)}"),
        "activity": ("GET", f"/users/{q(username)}/activity"),
        # Who watches whom is public: asked without the visitor's token (no authentication round trip).
        "followers": ("GET", f"/users/{q(username)}/followers", {"public": True}),
        "following": ("GET", f"/users/{q(username)}/following", {"public": True}),
    }
    if own:
        calls["my_orgs"] = ("GET", "/me/orgs")
        calls["watches"] = ("GET", "/me/watches")
    answers = load(calls)
    user = answers["user"]
    if user.status == 404:
        return render("error.html", title="No such user", message=f"There is no user named {username}."), 404
    sections = {name: section(answers.get(name)) for name in
                ("repos", "activity", "followers", "following", "my_orgs", "watches")}
    followers = sections["followers"]["data"] or []
    am_following = me is not None and any(f.get("name") == me for f in followers if isinstance(f, dict))
    return render("profile.html", username=username, user=section(user), own=own, am_following=am_following,
                  title=(user.data or {}).get("full_name") or username, **sections)


@blp.get("/ui/orgs/<org>")
def org(org: str) -> Any:
    answers = load({
        "org": ("GET", f"/orgs/{q(org)}"),
        "repos": ("GET", f"/repos/{q(org)}"),
        "activity": ("GET", f"/orgs/{q(org)}/activity"),
        "followers": ("GET", f"/orgs/{q(org)}/followers", {"public": True}),
    })
    if answers["org"].status == 404:
        return render("error.html", title="No such organization",
                      message=f"There is no organization named {org}."), 404
    data = answers["org"].data or {}
    me = visitor().username
    role = next((m.get("type") for m in data.get("members", []) if m.get("name") == me), None)
    followers = section(answers["followers"])
    am_following = me is not None and any(f.get("name") == me for f in followers["data"] or [] if isinstance(f, dict))
    return render("org.html", name=org, org=section(answers["org"]), repos=section(answers["repos"]),
                  activity=section(answers["activity"]), role=role, followers=followers, am_following=am_following,
                  title=data.get("full_name") or org)


@blp.post("/ui/users/<username>/follow")
@login_required
def follow(username: str) -> Any:
    """Watch (follow) a user or an organization, or stop."""
    stop = flask.request.form.get("action") == "unfollow"
    answer = call("DELETE" if stop else "PUT", f"/me/following/{q(username)}")
    if answer.ok:
        visitor().flash(f"You no longer watch {username}." if stop else f"You watch {username}.", "success")
    else:
        visitor().flash(answer.message, "error")
    back = "/ui/orgs/" if flask.request.form.get("kind") == "org" else "/ui/users/"
    return flask.redirect(back + q(username), 303)

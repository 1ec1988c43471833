"""The landing page, user profiles, user search and organization pages."""

from __future__ import annotations

from typing import Any

import flask

from web.views.common import Form, call, load, login_required, q, render, visitor

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
    sections: dict[str, Any] = {name: section(answers.get(name)) for name in
                ("repos", "activity", "followers", "following", "my_orgs", "watches")}
    followers = sections["followers"]["data"] or []
    am_following = me is not None and any(f.get("name") == me for f in followers if isinstance(f, dict))
    return render("profile.html", username=username, user=section(user), own=own, am_following=am_following,
                  title=(user.data or {}).get("full_name") or username, **sections)


MEMBER_FIELDS = ("username", "role")
TEAM_FIELDS = ("name", "members")


@blp.get("/ui/orgs/<org>")
def org(org: str, member_form: Form | None = None, team_form: Form | None = None) -> Any:
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
                  member_form=member_form or Form(MEMBER_FIELDS, {"role": "member"}),
                  team_form=team_form or Form(TEAM_FIELDS), title=data.get("full_name") or org)


@blp.post("/ui/orgs/<org>/members")
@login_required
def add_member(org: str) -> Any:
    """An organization's admins add a member (or an admin)."""
    form = Form.posted(MEMBER_FIELDS, aliases={"user": "username"})
    answer = call("POST", f"/orgs/{q(org)}/members", json={"username": form.value("username"),
                                                           "role": form.value("role") or "member"})
    if answer.status == 201:
        visitor().flash(f"{form.value('username')} is a {form.value('role') or 'member'} of {org}.", "success")
        return flask.redirect(f"/ui/orgs/{q(org)}", 303)
    return _refused(org_page(org, member_form=form.refuse(answer)))


@blp.post("/ui/orgs/<org>/members/<username>/remove")
@login_required
def remove_member(org: str, username: str) -> Any:
    answer = call("DELETE", f"/orgs/{q(org)}/members/{q(username)}")
    visitor().flash(f"{username} is no longer a member of {org}." if answer.ok else answer.message,
                    "success" if answer.ok else "error")
    return flask.redirect(f"/ui/orgs/{q(org)}", 303)


@blp.post("/ui/orgs/<org>/teams")
@login_required
def create_team(org: str) -> Any:
    form = Form.posted(TEAM_FIELDS, aliases={"team": "name", "member": "members"})
    members = [name.strip() for name in form.value("members").replace(",", " ").split() if name.strip()]
    answer = call("POST", f"/orgs/{q(org)}/teams", json={"name": form.value("name"), "members": members})
    if answer.status == 201:
        visitor().flash(f"The team {form.value('name')} is created.", "success")
        return flask.redirect(f"/ui/orgs/{q(org)}", 303)
    return _refused(org_page(org, team_form=form.refuse(answer)))


org_page = org


def _refused(page: Any) -> Any:
    """The organization page again, with the form's messages: 400 (or the page's own status)."""
    return page if isinstance(page, tuple) else (page, 400)


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

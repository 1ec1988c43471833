"""Editing your own account: the forms on the left of Bintray's profile editor."""

from __future__ import annotations

import secrets
from typing import Any

import flask

from web.views.common import Form, api, call, load, login_required, q, render, visitor
from web.views.people import section

blp = flask.Blueprint("settings", __name__, url_prefix="/ui/settings")

GENERAL_FIELDS = ("first_name", "last_name", "email", "password", "bio", "company", "location", "website")
CHECKBOXES = ("show_email", "release_alerts_email", "news_email")
PASSWORD_FIELDS = ("old_password", "new_password", "retype_password")
ACCOUNT_FIELDS = ("twitter", "github", "google", "bitbucket")
ORG_FIELDS = ("name", "full_name", "desc", "website")
GPG_FIELDS = ("public_key", "private_key")


def _settings(template: str, tab: str, **context: Any) -> str:
    return render(f"settings/{template}", tab=tab, title="Edit profile", **context)


def _done(message: str, to: str) -> Any:
    visitor().flash(message, "success")
    return flask.redirect(to, 303)


@blp.get("")
@login_required
def index() -> Any:
    return flask.redirect("/ui/settings/profile", 303)


@blp.route("/profile", methods=["GET", "POST"])
@login_required
def general() -> Any:
    answers = load({"profile": ("GET", "/me/profile")})
    profile = answers["profile"]
    if not profile.ok:
        return _settings("general.html", "general", form=None, profile=section(profile)), 503
    if flask.request.method == "GET":
        return _settings("general.html", "general", form=Form(GENERAL_FIELDS + CHECKBOXES, profile.data),
                         profile=section(profile))
    form = Form.posted(GENERAL_FIELDS, keep_secret=("password",))
    body: dict[str, Any] = {name: form.value(name) for name in GENERAL_FIELDS if name not in ("email", "password")}
    for name in CHECKBOXES:
        body[name] = form.values[name] = name in flask.request.form
    if form.value("email").strip() != profile.data.get("email"):
        body["email"] = form.value("email")
        body["password"] = flask.request.form.get("password", "")
    answer = call("PATCH", "/me/profile", json=body)
    if not answer.ok:
        return _settings("general.html", "general", form=form.refuse(answer), profile=section(profile)), 400
    return _done("Your profile is updated.", "/ui/settings/profile")


@blp.post("/avatar")
@login_required
def avatar() -> Any:
    if "remove" in flask.request.form:
        answer = call("DELETE", "/me/avatar")
        message = "Your avatar is removed; the generated one is shown."
    else:
        upload = flask.request.files.get("avatar")
        if upload is None or not upload.filename:
            visitor().flash("Choose an image to upload first.", "error")
            return flask.redirect("/ui/settings/profile", 303)
        answer = call("PUT", "/me/avatar", files={"avatar": (upload.filename, upload.stream.read(),
                                                             upload.mimetype or "application/octet-stream")})
        message = "Your avatar is updated."
    if not answer.ok:
        visitor().flash(f"Avatar: {answer.message}", "error")
        return flask.redirect("/ui/settings/profile", 303)
    visitor().set("avatar_v", secrets.token_hex(4))
    return _done(message, "/ui/settings/profile")


@blp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Any:
    if flask.request.method == "GET":
        return _settings("password.html", "password", form=Form(PASSWORD_FIELDS))
    form = Form(PASSWORD_FIELDS)
    answer = call("PUT", "/me/password", json={name: flask.request.form.get(name, "") for name in PASSWORD_FIELDS})
    if not answer.ok:
        return _settings("password.html", "password", form=form.refuse(answer)), 400
    # Tokens issued before the change stop working; the answer carries the session's new one.
    visitor().replace_token(answer.data["token"], answer.data["expires_in"])
    return _done("Your password is changed.", "/ui/settings/password")


@blp.route("/orgs", methods=["GET", "POST"])
@login_required
def orgs() -> Any:
    form = Form(ORG_FIELDS)
    status = 200
    if flask.request.method == "POST":
        form = Form.posted(ORG_FIELDS)
        answer = call("POST", "/orgs", json=form.values)
        if answer.status == 201:
            return _done(f"The organization {answer.data['name']} is created.", f"/ui/orgs/{answer.data['name']}")
        form.refuse(answer)
        status = 400
    answers = load({"orgs": ("GET", "/me/orgs")})
    return _settings("orgs.html", "orgs", form=form, orgs=section(answers["orgs"])), status


@blp.route("/orgs/<org>", methods=["GET", "POST"])
@login_required
def edit_org(org: str) -> Any:
    fields = ("full_name", "desc", "website")
    if flask.request.method == "POST":
        form = Form.posted(fields)
        answer = call("PATCH", f"/orgs/{q(org)}", json=form.values)
        if answer.ok:
            return _done(f"{org} is updated.", f"/ui/orgs/{q(org)}")
        return _settings("org_edit.html", "orgs", org=org, form=form.refuse(answer)), 400
    answers = load({"org": ("GET", f"/orgs/{q(org)}")})
    if answers["org"].status == 404:
        flask.abort(404)
    return _settings("org_edit.html", "orgs", org=org, form=Form(fields, answers["org"].data or {}),
                     unavailable=answers["org"].unavailable)


@blp.post("/orgs/<org>/leave")
@login_required
def leave_org(org: str) -> Any:
    answer = call("DELETE", f"/orgs/{q(org)}/members/{q(visitor().username)}")
    if not answer.ok:
        visitor().flash(f"{org}: {answer.message}", "error")
        return flask.redirect("/ui/settings/orgs", 303)
    return _done(f"You left {org}.", "/ui/settings/orgs")


@blp.get("/teams")
@login_required
def teams() -> Any:
    answers = load({"teams": ("GET", "/me/teams")})
    return _settings("teams.html", "teams", teams=section(answers["teams"]))


@blp.get("/products")
@login_required
def products() -> Any:
    return _settings("products.html", "products")


@blp.get("/repos")
@login_required
def repos() -> Any:
    answers = load({"repos": ("GET", f"/repos/{q(visitor().username)}")})
    return _settings("repos.html", "repos", repos=section(answers["repos"]))


@blp.route("/accounts", methods=["GET", "POST"])
@login_required
def accounts() -> Any:
    if flask.request.method == "POST":
        form = Form.posted(ACCOUNT_FIELDS)
        answer = call("PUT", "/me/accounts", json=form.values)
        if answer.ok:
            return _done("Your accounts are updated.", "/ui/settings/accounts")
        return _settings("accounts.html", "accounts", form=form.refuse(answer)), 400
    answers = load({"accounts": ("GET", "/me/accounts")})
    return _settings("accounts.html", "accounts", form=Form(ACCOUNT_FIELDS, answers["accounts"].data or {}),
                     unavailable=answers["accounts"].unavailable)


# -- API key ------------------------------------------------------------------------------------

def _needs_password(answer: Any) -> bool:
    return answer.status == 403 and "15 minutes" in answer.message


@blp.get("/apikey")
@login_required
def apikey() -> Any:
    answers = load({"key": ("GET", "/me/apikey")})
    key = answers["key"]
    state = ("shown" if key.ok else "reauth" if _needs_password(key) else "none" if key.status == 404
             else "unavailable")
    return _settings("apikey.html", "apikey", state=state, api_key=(key.data or {}).get("api_key"),
                     message=key.message, form=Form(("password",)))


@blp.post("/apikey")
@login_required
def apikey_change() -> Any:
    action = flask.request.form.get("action")
    if action == "revoke":
        answer = call("DELETE", "/me/apikey")
        if answer.ok:
            return _done("Your API key is revoked: it is refused from now on.", "/ui/settings/apikey")
    elif action == "generate":
        answer = call("POST", "/me/apikey")
        if answer.status == 201:
            return _done("Your API key is generated.", "/ui/settings/apikey")
        if _needs_password(answer):
            return flask.redirect("/ui/settings/apikey", 303)
    elif action == "confirm":
        # Showing or generating a key needs a password login from the API's last 15 minutes.
        form = Form(("password",))
        login = api().call("POST", "/auth/login", json={"username": visitor().username,
                                                       "password": flask.request.form.get("password", "")})
        if login.ok:
            visitor().replace_token(login.data["token"], login.data["expires_in"])
            return flask.redirect("/ui/settings/apikey", 303)
        form.errors["password"] = "Wrong password." if login.status == 401 else login.message
        return _settings("apikey.html", "apikey", state="reauth", api_key=None, message="", form=form), 400
    else:
        flask.abort(400)
    visitor().flash(answer.message, "error")
    return flask.redirect("/ui/settings/apikey", 303)


# -- GPG signing key ------------------------------------------------------------------------------

@blp.route("/gpg", methods=["GET", "POST"])
@login_required
def gpg() -> Any:
    if flask.request.method == "POST":
        action = flask.request.form.get("action")
        if action == "clear":
            confirm = flask.request.form.get("confirm", "")
            if not confirm:
                answers = load({"key": ("GET", "/me/keys/gpg")})
                return _settings("gpg.html", "gpg", key=section(answers["key"]), form=Form(GPG_FIELDS),
                                 confirming=True)
            answer = call("DELETE", "/me/keys/gpg", json={"fingerprint": confirm})
            if answer.ok:
                return _done("Your GPG key is cleared.", "/ui/settings/gpg")
            visitor().flash(answer.message, "error")
            return flask.redirect("/ui/settings/gpg", 303)
        form = Form.posted(("public_key",))
        body = {"public_key": form.value("public_key")}
        if flask.request.form.get("private_key", "").strip():
            body["private_key"] = flask.request.form["private_key"]
        answer = call("PUT", "/me/keys/gpg", json=body)
        if answer.ok:
            return _done("Your GPG key is updated.", "/ui/settings/gpg")
        form.fields = GPG_FIELDS
        answers = load({"key": ("GET", "/me/keys/gpg")})
        return _settings("gpg.html", "gpg", key=section(answers["key"]), form=form.refuse(answer)), 400
    answers = load({"key": ("GET", "/me/keys/gpg")})
    return _settings("gpg.html", "gpg", key=section(answers["key"]), form=Form(GPG_FIELDS))


# -- notification settings ------------------------------------------------------------------------

@blp.route("/notifications", methods=["GET", "POST"])
@login_required
def notifications() -> Any:
    if flask.request.method == "POST":
        current = call("GET", "/me/notification_settings")
        body = _notification_settings_from_form(current.data or {})
        answer = call("PUT", "/me/notification_settings", json=body)
        if answer.ok:
            return _done("Your notification settings are saved.", "/ui/settings/notifications")
        visitor().flash(answer.message, "error")
        return flask.redirect("/ui/settings/notifications", 303)
    answers = load({"settings": ("GET", "/me/notification_settings")})
    return _settings("notifications.html", "notifications", settings=section(answers["settings"]))


def _notification_settings_from_form(current: dict[str, Any]) -> dict[str, Any]:
    """The form's checkboxes (``in_app:<kind>``) and selects (``email:<kind>``) as the API's changes."""
    form = flask.request.form
    kinds: dict[str, dict[str, Any]] = {}
    for kind, choice in (current.get("kinds") or {}).items():
        change: dict[str, Any] = {}
        if isinstance(choice, dict) and choice.get("in_app") is not None:
            change["in_app"] = f"in_app:{kind}" in form
        if isinstance(choice, dict) and choice.get("email") is not None and f"email:{kind}" in form:
            change["email"] = form[f"email:{kind}"]
        if change:
            kinds[kind] = change
    return {"kinds": kinds, "time_zone": form.get("time_zone", "").strip() or None}

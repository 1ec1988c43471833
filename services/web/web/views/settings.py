"""Editing your own account: the forms on the left of Bintray's profile editor."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
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
        return _settings("org_edit.html", "orgs", org=org, org_tab="profile", form=form.refuse(answer)), 400
    answers = load({"org": ("GET", f"/orgs/{q(org)}")})
    if answers["org"].status == 404:
        flask.abort(404)
    return _settings("org_edit.html", "orgs", org=org, org_tab="profile", form=Form(fields, answers["org"].data or {}),
                     unavailable=answers["org"].unavailable)


@blp.post("/orgs/<org>/leave")
@login_required
def leave_org(org: str) -> Any:
    answer = call("DELETE", f"/orgs/{q(org)}/members/{q(visitor().username or '')}")
    if not answer.ok:
        visitor().flash(f"{org}: {answer.message}", "error")
        return flask.redirect("/ui/settings/orgs", 303)
    return _done(f"You left {org}.", "/ui/settings/orgs")


# -- teams: an organization's, and one's own ----------------------------------------------------------

TEAM_FIELDS = ("name", "members", "allow_repo_creation")
TEAM_ALIASES = {"team": "name", "user": "members", "members": "members"}
PERMISSIONS = ("read", "publish", "admin")


@dataclass(frozen=True)
class Teams:
    """Whose teams: an organization's (its admins manage them) or the visitor's own (for their repositories)."""

    owner: str
    org: bool

    @property
    def api(self) -> str:
        return f"/{'orgs' if self.org else 'users'}/{q(self.owner)}/teams"

    @property
    def page(self) -> str:
        return f"/ui/settings/orgs/{q(self.owner)}/teams" if self.org else "/ui/settings/teams"

    def context(self) -> dict[str, Any]:
        return ({"org": self.owner, "org_tab": "teams"} if self.org else {}) | {
            "owner": self.owner, "teams_page": self.page}


def _org_teams(org: str) -> Teams:
    return Teams(org, True)


def _my_teams() -> Teams:
    return Teams(visitor().username or "", False)


def _usernames(text: str) -> list[str]:
    """Usernames typed one per line, or separated by commas or spaces."""
    return [name for name in text.replace(",", " ").split() if name]


def _forbidden(answer: Any) -> Any:
    return render("error.html", title="Not possible", message=answer.message), 403


def _create_team(teams: Teams) -> tuple[Any, Form | None]:
    """Create a team from the posted form: the redirect to it, or the refused form."""
    form = Form.posted(TEAM_FIELDS, aliases=TEAM_ALIASES)
    form.values["allow_repo_creation"] = "allow_repo_creation" in flask.request.form
    answer = call("POST", teams.api, json={
        "name": form.value("name").strip(), "members": _usernames(form.value("members")),
        "allow_repo_creation": teams.org and form.values["allow_repo_creation"]})
    if answer.status == 201:
        return _done(f"The team {answer.data['name']} is created.", f"{teams.page}/{q(answer.data['name'])}"), None
    return None, form.refuse(answer)


@blp.route("/orgs/<org>/teams", methods=["GET", "POST"])
@login_required
def org_teams(org: str) -> Any:
    """The organization's teams and the form to create one (its owners and admins)."""
    teams, form, status = _org_teams(org), Form(TEAM_FIELDS), 200
    if flask.request.method == "POST":
        done, refused = _create_team(teams)
        if done is not None:
            return done
        form, status = refused or form, 400
    found = load({"teams": ("GET", teams.api)})["teams"]
    if found.status == 403:
        return _forbidden(found)
    if found.status == 404:
        flask.abort(404)
    return _settings("org_teams.html", "orgs", teams=section(found), form=form, **teams.context()), status


def _team_page(teams: Teams, team: str, form: Form | None = None, status: int = 200,
               confirming: bool = False) -> Any:
    """A team's members, its right to create repositories, and its permission on each of the owner's
    repositories (catalog's ``/repos/:owner/:repo/permissions``)."""
    owner = q(teams.owner)
    answers = load({"team": ("GET", f"{teams.api}/{q(team)}"), "repos": ("GET", f"/repos/{owner}")})
    found = answers["team"]
    if found.status == 403:
        return _forbidden(found)
    if found.status == 404:
        return render("error.html", title="No such team",
                      message=found.message or f"{teams.owner} has no team {team}."), 404
    repos = section(answers["repos"])
    names = [r["name"] for r in repos["data"] or [] if isinstance(r, dict) and r.get("name")][:100]
    grants = load({name: ("GET", f"/repos/{owner}/{q(name)}/permissions") for name in names}, header=False)
    permissions: dict[str, str | None] = {}  # repository -> this team's permission; missing when unknown
    for name in names:
        granted = grants[name]
        if granted.ok and isinstance(granted.data, list):
            permissions[name] = next((g.get("permission") for g in granted.data if g.get("team") == team), None)
    if form is None:
        data = found.data or {}
        form = Form(TEAM_FIELDS, {"members": "\n".join(data.get("members") or []),
                                  "allow_repo_creation": data.get("allow_repo_creation")})
    return _settings("team.html", "orgs" if teams.org else "teams", team=team, found=section(found),
                     repos=repos, names=names, permissions=permissions, form=form, confirming=confirming,
                     permission_levels=PERMISSIONS, **teams.context()), status


def _save_team(teams: Teams, team: str) -> Any:
    posted = flask.request.form
    form = Form.posted(("members",), aliases=TEAM_ALIASES)
    form.fields = TEAM_FIELDS
    form.values["allow_repo_creation"] = "allow_repo_creation" in posted
    changes = {key[len("perm:"):]: posted.get(key, "") for key in posted if key.startswith("perm:")}
    form.values.update({f"perm:{repo}": wanted for repo, wanted in changes.items()})
    change: dict[str, Any] = {"members": _usernames(form.value("members"))}
    if teams.org:  # only an organization's teams may be let create repositories (in the organization)
        change["allow_repo_creation"] = form.values["allow_repo_creation"]
    answer = call("PATCH", f"{teams.api}/{q(team)}", json=change)
    if not answer.ok:
        if answer.status == 404:
            return _team_page(teams, team)
        return _team_page(teams, team, form.refuse(answer), 400)
    # Only the permissions the person changed: each select is sent with the value it was shown with.
    refused: list[str] = []
    for repo, wanted in changes.items():
        if wanted == posted.get(f"was:{repo}", "") or (wanted and wanted not in PERMISSIONS):
            continue
        base = f"/repos/{q(teams.owner)}/{q(repo)}/permissions"
        granted = (call("PUT", base, json={"team": team, "permission": wanted}) if wanted
                   else call("DELETE", f"{base}/{q(team)}"))
        if not granted.ok and not (not wanted and granted.status == 404):
            refused.append(f"{repo}: {granted.message}")
    if refused:
        form.message = ("The members are saved, but not every permission: " + "; ".join(refused)
                        + (" " if refused[-1].endswith(".") else ". ") + "Send the form again to retry.")
        return _team_page(teams, team, form, 400)
    return _done(f"The team {team} is saved.", f"{teams.page}/{q(team)}")


def _delete_team(teams: Teams, team: str) -> Any:
    """Delete a team, after a confirmation (its repository permissions go with it)."""
    if flask.request.form.get("confirm") != team:
        return _team_page(teams, team, confirming=True)
    answer = call("DELETE", f"{teams.api}/{q(team)}")
    if not answer.ok:
        visitor().flash(answer.message, "error")
        return flask.redirect(f"{teams.page}/{q(team)}", 303)
    return _done(f"The team {team} is deleted.", teams.page)


@blp.route("/orgs/<org>/teams/<team>", methods=["GET", "POST"])
@login_required
def org_team(org: str, team: str) -> Any:
    return _save_team(_org_teams(org), team) if flask.request.method == "POST" else _team_page(_org_teams(org), team)


@blp.post("/orgs/<org>/teams/<team>/delete")
@login_required
def delete_org_team(org: str, team: str) -> Any:
    return _delete_team(_org_teams(org), team)


@blp.route("/teams", methods=["GET", "POST"])
@login_required
def teams() -> Any:
    """The teams I am in, and my own teams (for my repositories) with the form to create one."""
    mine, form, status = _my_teams(), Form(TEAM_FIELDS), 200
    if flask.request.method == "POST":
        done, refused = _create_team(mine)
        if done is not None:
            return done
        form, status = refused or form, 400
    answers = load({"teams": ("GET", "/me/teams"), "own": ("GET", mine.api)})
    return _settings("teams.html", "teams", teams=section(answers["teams"]), own=section(answers["own"]),
                     form=form, **mine.context()), status


@blp.route("/teams/<team>", methods=["GET", "POST"])
@login_required
def my_team(team: str) -> Any:
    return _save_team(_my_teams(), team) if flask.request.method == "POST" else _team_page(_my_teams(), team)


@blp.post("/teams/<team>/delete")
@login_required
def delete_my_team(team: str) -> Any:
    return _delete_team(_my_teams(), team)


@blp.get("/products")
@login_required
def products() -> Any:
    return _settings("products.html", "products")


@blp.get("/repos")
@login_required
def repos() -> Any:
    answers = load({"repos": ("GET", f"/repos/{q(visitor().username or '')}")})
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
    return _gpg_page("/me/keys/gpg", "/ui/settings/gpg", "gpg", who="Your")


@blp.route("/orgs/<org>/gpg", methods=["GET", "POST"])
@login_required
def org_gpg(org: str) -> Any:
    """An organization's GPG key, for its owners and admins: as one's own key, on the organization's behalf."""
    return _gpg_page(f"/orgs/{q(org)}/keys/gpg", f"/ui/settings/orgs/{q(org)}/gpg", "orgs", who=f"{org}'s",
                     org=org, org_tab="gpg")


def _gpg_page(api_path: str, page: str, tab: str, **context: Any) -> Any:
    """Show, add or replace, and clear (after a confirmation) a GPG key: the caller's or an organization's."""

    def show(form: Form, status: int = 200, confirming: bool = False) -> Any:
        key = load({"key": ("GET", api_path)})["key"]
        if key.status == 403:  # not an owner or admin of the organization
            return render("error.html", title="Not possible", message=key.message), 403
        if key.status == 404 and "has no GPG key" not in key.message:  # no such organization (yet, for signing)
            return render("error.html", title="Not found", message=key.message), 404
        return _settings("gpg.html", tab, key=section(key), form=form, confirming=confirming, page=page,
                         **context), status

    if flask.request.method == "GET":
        return show(Form(GPG_FIELDS))
    if flask.request.form.get("action") == "clear":
        confirm = flask.request.form.get("confirm", "")
        if not confirm:
            return show(Form(GPG_FIELDS), confirming=True)
        answer = call("DELETE", api_path, json={"fingerprint": confirm})
        if answer.ok:
            return _done(f"{context['who']} GPG key is cleared.", page)
        visitor().flash(answer.message, "error")
        return flask.redirect(page, 303)
    form = Form.posted(("public_key",))
    body = {"public_key": form.value("public_key")}
    if flask.request.form.get("private_key", "").strip():
        body["private_key"] = flask.request.form["private_key"]
    answer = call("PUT", api_path, json=body)
    if answer.ok:
        return _done(f"{context['who']} GPG key is updated.", page)
    form.fields = GPG_FIELDS
    return show(form.refuse(answer), status=400)


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

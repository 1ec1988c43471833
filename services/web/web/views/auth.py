"""Sign up, log in and out, forgotten passwords and the reset page the email links to."""

from __future__ import annotations

from typing import Any

import flask

from web.views.common import Form, LoginRequired, api, call, redirect_to_login, render, safe_next, visitor

blp = flask.Blueprint("auth", __name__)

SIGNUP_FIELDS = ("username", "email", "full_name", "password")
LOGIN_FIELDS = ("username", "password")


@blp.after_app_request
def _keep_device_cookie(response: flask.Response) -> flask.Response:
    device = flask.g.get("device_cookie")
    if device:
        response.set_cookie(DEVICE_COOKIE, device, max_age=365 * 24 * 3600, path="/ui/",
                            secure=flask.current_app.extensions["web"].secure_cookies, httponly=True, samesite="Lax")
    return response


@blp.app_errorhandler(LoginRequired)
def _login_required(_exc: LoginRequired) -> Any:
    visitor().flash("Please log in to continue.")
    return redirect_to_login()


DEVICE_COOKIE = "packyard_device"  # identity's: a client that logged in before is not locked out by others


def _log_in(username: str, password: str) -> tuple[bool, Any]:
    """Exchange the password for an API token and keep it in the session.

    Identity recognises a browser that logged in before by its device cookie; the web app keeps that
    cookie for the visitor (HttpOnly, this site only) and shows it to identity on each login.
    """
    device = flask.request.cookies.get(DEVICE_COOKIE)
    answer = api().call("POST", "/auth/login", json={"username": username, "password": password},
                        cookies={DEVICE_COOKIE: device} if device else None)
    if answer.cookies.get(DEVICE_COOKIE):
        flask.g.device_cookie = answer.cookies[DEVICE_COOKIE]
    if not answer.ok:
        return False, answer
    token, expires_in = answer.data["token"], answer.data["expires_in"]
    me = api().get("/me", token)
    if not me.ok:
        return False, me
    visitor().log_in(token, expires_in, me.data["name"])
    return True, answer


@blp.route("/ui/signup", methods=["GET", "POST"])
def signup() -> Any:
    if flask.request.method == "GET":
        return render("signup.html", form=Form(SIGNUP_FIELDS), title="Sign up")
    form = Form.posted(SIGNUP_FIELDS, keep_secret=("password",), aliases={"name": "username"})
    answer = api().call("POST", "/auth/signup",
                        json={**form.values, "password": flask.request.form.get("password", "")})
    if answer.status != 201:
        return render("signup.html", form=form.refuse(answer), title="Sign up"), 400 if answer.status < 500 else 503
    ok, _ = _log_in(form.value("username"), flask.request.form.get("password", ""))
    if ok:
        visitor().flash(f"Welcome to Packyard, {visitor().username}!", "success")
        return flask.redirect(f"/ui/users/{visitor().username}", 303)
    visitor().flash("Your account is ready: log in to start.", "success")
    return flask.redirect("/ui/login", 303)


@blp.route("/ui/login", methods=["GET", "POST"])
def login() -> Any:
    target = safe_next(flask.request.values.get("next"))
    if flask.request.method == "GET":
        return render("login.html", form=Form(LOGIN_FIELDS), next=target, title="Log in")
    form = Form.posted(LOGIN_FIELDS, keep_secret=("password",))
    ok, answer = _log_in(form.value("username"), flask.request.form.get("password", ""))
    if not ok:
        status = 503 if answer.unavailable else 400
        if answer.status == 401:
            form.message = "Wrong username or password."
            form.errors = {"password": form.message}
        else:
            form.refuse(answer)
        return render("login.html", form=form, next=target, title="Log in"), status
    return flask.redirect(target if target != "/" else f"/ui/users/{visitor().username}", 303)


@blp.route("/ui/logout", methods=["POST"])
def logout() -> Any:
    me = visitor()
    if me.token:
        # identity refuses this token from now on, so a copy of it (a stolen cookie) is worthless too;
        # the session ends here whatever the API answers
        api().call("POST", "/auth/logout", me.token)
    me.clear()
    me.modified = True
    me.flash("You are logged out.")
    return flask.redirect("/", 303)


@blp.route("/ui/forgot-password", methods=["GET", "POST"])
def forgot_password() -> Any:
    if flask.request.method == "GET":
        return render("forgot.html", form=Form(("email",)), title="Forgotten password")
    form = Form.posted(("email",))
    answer = api().call("POST", "/auth/password-reset", json=form.values)
    if not answer.ok:
        return render("forgot.html", form=form.refuse(answer), title="Forgotten password"), 400
    return render("forgot.html", form=Form(("email",)), sent=answer.message, title="Forgotten password")


@blp.route("/reset-password", methods=["GET", "POST"])
def reset_password() -> Any:
    fields = ("token", "new_password", "retype_password")
    token = flask.request.values.get("token", "")
    if flask.request.method == "GET":
        return render("reset.html", form=Form(fields, {"token": token}), title="Choose a new password")
    form = Form(fields, {"token": token})
    new, retype = flask.request.form.get("new_password", ""), flask.request.form.get("retype_password", "")
    if new != retype:
        form.errors["retype_password"] = "The two passwords are not the same."
        return render("reset.html", form=form, title="Choose a new password"), 400
    answer = call("POST", "/auth/password-reset/confirm", json={"token": token, "new_password": new})
    if not answer.ok:
        form.refuse(answer)
        if "token" in form.errors:
            form.message = form.errors.pop("token") + " Ask for a new link."
        return render("reset.html", form=form, title="Choose a new password"), 400
    visitor().flash("Your password is changed: log in with it.", "success")
    return flask.redirect("/ui/login", 303)

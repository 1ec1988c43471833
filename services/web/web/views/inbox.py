"""Notifications, conversations and the feed: what comes to you."""

from __future__ import annotations

from typing import Any

import flask

from web.views.common import Form, call, load, login_required, q, render, visitor
from web.views.people import section

blp = flask.Blueprint("inbox", __name__, url_prefix="/ui")


@blp.get("/notifications")
@login_required
def notifications() -> Any:
    start = flask.request.args.get("start_pos", "0")
    answers = load({"list": ("GET", "/me/notifications", {"params": {"start_pos": start if start.isdigit() else 0}})})
    return render("notifications.html", items=section(answers["list"]), title="Notifications")


@blp.post("/notifications/read_all")
@login_required
def read_all() -> Any:
    answer = call("POST", "/me/notifications/read_all")
    visitor().flash("Every notification is marked read." if answer.ok else answer.message,
                    "success" if answer.ok else "error")
    return flask.redirect("/ui/notifications", 303)


@blp.post("/notifications/<notification_id>/read")
@login_required
def read_one(notification_id: str) -> Any:
    answer = call("POST", f"/me/notifications/{q(notification_id)}/read")
    if not answer.ok:
        visitor().flash(answer.message, "error")
    return flask.redirect("/ui/notifications", 303)


@blp.get("/messages")
@login_required
def conversations() -> Any:
    answers = load({"list": ("GET", "/me/conversations"), "blocked": ("GET", "/me/blocked")})
    return render("conversations.html", items=section(answers["list"]), blocked=section(answers["blocked"]),
                  form=Form(("to", "subject", "body"), {"to": flask.request.args.get("to", "")}), title="Messages")


@blp.get("/messages/<username>")
@login_required
def thread(username: str) -> Any:
    answers = load({"thread": ("GET", f"/me/conversations/{q(username)}"), "blocked": ("GET", "/me/blocked")})
    if answers["thread"].ok and answers["thread"].data:
        call("POST", f"/me/conversations/{q(username)}/read")
    blocked = section(answers["blocked"])
    names = {b.get("name") if isinstance(b, dict) else b for b in (blocked["data"] or [])}
    return render("thread.html", other=username, thread=section(answers["thread"]), is_blocked=username in names,
                  form=Form(("body",)), title=f"Messages with {username}")


@blp.post("/messages")
@login_required
def send() -> Any:
    fields = ("to", "subject", "body")
    form = Form.posted(fields)
    body = {"to": form.value("to"), "body": form.value("body")}
    if form.value("subject"):
        body["subject"] = form.value("subject")
    answer = call("POST", "/me/messages", json=body)
    if answer.ok:
        visitor().flash("Your message is sent.", "success")
        return flask.redirect(f"/ui/messages/{q(form.value('to'))}", 303)
    back = flask.request.form.get("back")
    if back == "thread":
        answers = load({"thread": ("GET", f"/me/conversations/{q(form.value('to'))}")})
        return render("thread.html", other=form.value("to"), thread=section(answers["thread"]), is_blocked=False,
                      form=form.refuse(answer), title=f"Messages with {form.value('to')}"), 400
    answers = load({"list": ("GET", "/me/conversations"), "blocked": ("GET", "/me/blocked")})
    return render("conversations.html", items=section(answers["list"]), blocked=section(answers["blocked"]),
                  form=form.refuse(answer), title="Messages"), 400


@blp.post("/messages/<username>/block")
@login_required
def block(username: str) -> Any:
    unblock = flask.request.form.get("action") == "unblock"
    answer = call("DELETE" if unblock else "PUT", f"/me/blocked/{q(username)}")
    done = f"{username} is unblocked." if unblock else f"{username} is blocked: their messages no longer reach you."
    visitor().flash(done if answer.ok else answer.message, "success" if answer.ok else "error")
    return flask.redirect(f"/ui/messages/{q(username)}", 303)


@blp.get("/feed")
@login_required
def feed() -> Any:
    answers = load({"feed": ("GET", "/me/feed")})
    return render("feed.html", feed=section(answers["feed"]), title="Your feed")

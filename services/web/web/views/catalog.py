"""Repository, package and version pages: what there is to download, and how much it is."""

from __future__ import annotations

from typing import Any

import flask

from web.api import Answer
from web.charts import downloads_chart, total_downloads
from web.views.common import Form, call, load, login_required, q, render, visitor
from web.views.people import section

blp = flask.Blueprint("catalog", __name__, url_prefix="/ui")

REVIEW_FIELDS = ("rating", "title", "body")
WATCH_KINDS = ("all", "stable", "major", "regex")


def _not_found(what: str) -> Any:
    return render("error.html", title="Not found", message=f"There is no {what} here, or it is private."), 404


@blp.get("/repos/<subject>/<repo>")
def repository(subject: str, repo: str) -> Any:
    answers = load({
        "repo": ("GET", f"/repos/{q(subject)}/{q(repo)}"),
        "packages": ("GET", f"/repos/{q(subject)}/{q(repo)}/packages"),
    })
    if answers["repo"].status in (403, 404):
        return _not_found("repository")
    return render("repo.html", subject=subject, repo=repo, info=section(answers["repo"]),
                  packages=section(answers["packages"]), title=f"{subject}/{repo}")


def _package_calls(base: str) -> dict[str, tuple]:
    return {
        "package": ("GET", base),
        "stats": ("POST", f"{base}/stats/time_range_downloads", {"json": {}}),
        "reviews": ("GET", f"{base}/reviews"),
        "watchers": ("GET", f"{base}/watchers"),
    }


@blp.get("/packages/<subject>/<repo>/<package>")
def package(subject: str, repo: str, package: str) -> Any:
    base = f"/packages/{q(subject)}/{q(repo)}/{q(package)}"
    calls = _package_calls(base)
    calls["files"] = ("GET", f"{base}/files")
    if visitor().token:
        calls["watches"] = ("GET", "/me/watches")
    answers = load(calls)
    answers["watch"] = _my_watch(answers.pop("watches", None), subject, repo, package)
    if answers["package"].status in (403, 404):
        return _not_found("package")
    return render("package.html", subject=subject, repo=repo, name=package, base=base,
                  title=f"{package} — {subject}/{repo}", **_package_sections(answers))


def _my_watch(watches: Any, subject: str, repo: str, package: str) -> Any:
    """My watch of this package, out of my watches (an answer: ok with it, 404 without, or unavailable)."""
    if watches is None or not watches.ok:
        return watches
    for watch in watches.data or []:
        if (watch.get("owner"), watch.get("repo"), watch.get("package")) == (subject, repo, package):
            return Answer(200, watch)
    return Answer(404, None, "Not watched")


def _package_sections(answers: dict[str, Any]) -> dict[str, Any]:
    stats = section(answers["stats"])
    records = stats["data"].get("records", []) if stats["state"] == "ok" else []
    chart = downloads_chart(records) if stats["state"] == "ok" else None
    return {"pkg": section(answers["package"]), "stats": stats, "chart": chart,
            "downloads_total": total_downloads(records),
            "files": section(answers.get("files")), "reviews": section(answers.get("reviews")),
            "watchers": section(answers.get("watchers")), "watch": section(answers.get("watch")),
            "review_form": Form(REVIEW_FIELDS)}


@blp.get("/packages/<subject>/<repo>/<package>/versions/<version>")
def version(subject: str, repo: str, package: str, version: str) -> Any:
    base = f"/packages/{q(subject)}/{q(repo)}/{q(package)}"
    vbase = f"{base}/versions/{q(version)}"
    answers = load({
        "package": ("GET", base),
        "version": ("GET", vbase),
        "files": ("GET", f"{vbase}/files"),
        "stats": ("POST", f"{vbase}/stats/time_range_downloads", {"json": {}}),
        "comments": ("GET", f"{vbase}/comments"),
    })
    if answers["version"].status in (403, 404):
        return _not_found("version")
    share = f"{flask.current_app.extensions['web'].settings.public_base_url}/ui{vbase}"
    stats = section(answers["stats"])
    records = stats["data"].get("records", []) if stats["state"] == "ok" else []
    chart = downloads_chart(records) if stats["state"] == "ok" else None
    return render("version.html", downloads_total=total_downloads(records), subject=subject, repo=repo, name=package, version_name=version,
                  pkg=section(answers["package"]), ver=section(answers["version"]), files=section(answers["files"]),
                  stats=stats, chart=chart, comments=section(answers["comments"]), share=share,
                  title=f"{package} {version} — {subject}/{repo}")


@blp.post("/packages/<subject>/<repo>/<package>/watch")
@login_required
def watch(subject: str, repo: str, package: str) -> Any:
    path = f"/me/watches/{q(subject)}/{q(repo)}/{q(package)}"
    page = f"/ui/packages/{q(subject)}/{q(repo)}/{q(package)}"
    if flask.request.form.get("action") == "unwatch":
        answer = call("DELETE", path)
        done = f"You no longer watch {package}."
    else:
        kind = flask.request.form.get("kind", "all")
        body: dict[str, Any] = {"kind": kind if kind in WATCH_KINDS else "all"}
        if body["kind"] == "regex":
            body["pattern"] = flask.request.form.get("pattern", "")
        answer = call("PUT", path, json={"filter": body})
        done = f"You watch {package}: you will hear of its new versions."
    visitor().flash(done if answer.ok else answer.message, "success" if answer.ok else "error")
    return flask.redirect(page, 303)


@blp.post("/packages/<subject>/<repo>/<package>/review")
@login_required
def review(subject: str, repo: str, package: str) -> Any:
    base = f"/packages/{q(subject)}/{q(repo)}/{q(package)}"
    form = Form.posted(REVIEW_FIELDS)
    rating = form.value("rating")
    answer = call("PUT", f"{base}/reviews/mine",
                  json={"rating": int(rating) if rating.isdigit() else rating, "title": form.value("title"),
                        "body": form.value("body")})
    if answer.ok:
        visitor().flash("Thank you: your review is posted.", "success")
        return flask.redirect(f"/ui{base}#reviews", 303)
    answers = load({**_package_calls(base), "files": ("GET", f"{base}/files")})
    sections = _package_sections(answers)
    sections["review_form"] = form.refuse(answer)
    return render("package.html", subject=subject, repo=repo, name=package, base=base,
                  title=f"{package} — {subject}/{repo}", **sections), 400


@blp.post("/packages/<subject>/<repo>/<package>/versions/<version>/comment")
@login_required
def comment(subject: str, repo: str, package: str, version: str) -> Any:
    vbase = f"/packages/{q(subject)}/{q(repo)}/{q(package)}/versions/{q(version)}"
    answer = call("POST", f"{vbase}/comments", json={"body": flask.request.form.get("body", "")})
    visitor().flash("Your comment is posted." if answer.ok else answer.message, "success" if answer.ok else "error")
    return flask.redirect(f"/ui{vbase}#comments", 303)


CLAIM_FIELDS = ("reason", "evidence", "target")


@blp.route("/packages/<subject>/<repo>/<package>/claim", methods=["GET", "POST"])
@login_required
def claim(subject: str, repo: str, package: str) -> Any:
    """Bintray's "report incorrect ownership": claim the package, to move it into one of your repositories."""
    base = f"/packages/{q(subject)}/{q(repo)}/{q(package)}"
    form = Form(CLAIM_FIELDS)
    status = 200
    if flask.request.method == "POST":
        form = Form.posted(CLAIM_FIELDS)
        answer = call("POST", f"{base}/claims", json=form.values)
        if answer.status == 201:
            visitor().flash("Your claim is filed: the owner is asked to answer it.", "success")
            return flask.redirect("/ui/claims", 303)
        form.refuse(answer)
        status = 400
    answers = load({"package": ("GET", base), "repos": ("GET", f"/repos/{q(visitor().username)}")})
    if answers["package"].status in (403, 404):
        return _not_found("package")
    return render("claim.html", subject=subject, repo=repo, name=package, form=form,
                  repos=section(answers["repos"]), title=f"Claim {package}"), status


@blp.get("/claims")
@login_required
def my_claims() -> Any:
    answers = load({"claims": ("GET", "/me/claims"), "requests": ("GET", "/me/inclusion_requests")})
    return render("claims.html", claims=section(answers["claims"]), requests=section(answers["requests"]),
                  title="Claims and inclusion requests")

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
WATCH_FIELDS = ("kind", "pattern")


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
    answers = _package_answers(subject, repo, package)
    if answers["package"].status in (403, 404):
        return _not_found("package")
    return _package_page(subject, repo, package, _package_sections(answers))


def _package_answers(subject: str, repo: str, package: str) -> dict[str, Any]:
    """Everything the package page shows, asked at once; ``watch`` is the visitor's watch of it."""
    base = f"/packages/{q(subject)}/{q(repo)}/{q(package)}"
    calls = _package_calls(base)
    calls["files"] = ("GET", f"{base}/files")
    if visitor().token:
        calls["watches"] = ("GET", "/me/watches", {"params": {"start_pos": 0}})
    answers = load(calls)
    watches = answers.pop("watches", None)
    answers["watch"] = _my_watch(watches, subject, repo, package)
    if answers["watch"] is not None and answers["watch"].status == 404 and watches is not None:
        # social has no read of one watch: look in the further pages of mine (50 each), all at once
        shown, total = len(watches.data or []), watches.total or 0
        if shown and total > shown:
            pages = load({str(start): ("GET", "/me/watches", {"params": {"start_pos": start}})
                          for start in range(shown, min(total, 2000), shown)}, header=False)
            found = _my_watch(Answer(200, [w for page in pages.values() if page.ok for w in page.data or []]),
                              subject, repo, package)
            failed = next((page for page in pages.values() if not page.ok), None)
            answers["watch"] = found if found.ok else failed or found
    return answers


def _package_page(subject: str, repo: str, package: str, sections: dict[str, Any], status: int = 200) -> Any:
    base = f"/packages/{q(subject)}/{q(repo)}/{q(package)}"
    return render("package.html", subject=subject, repo=repo, name=package, base=base,
                  title=f"{package} — {subject}/{repo}", **sections), status


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
            "review_form": Form(REVIEW_FIELDS), "reply_form": None, "watch_form": None}


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
    return render("version.html", downloads_total=total_downloads(records), subject=subject, repo=repo, name=package,
                  version_name=version,
                  pkg=section(answers["package"]), ver=section(answers["version"]), files=section(answers["files"]),
                  stats=stats, chart=chart, comments=section(answers["comments"]), share=share,
                  title=f"{package} {version} — {subject}/{repo}")


WATCH_DONE = {"all": "every new version", "stable": "its stable versions only", "major": "its major versions only",
              "regex": "its versions matching {pattern}"}


@blp.post("/packages/<subject>/<repo>/<package>/watch")
@login_required
def watch(subject: str, repo: str, package: str) -> Any:
    """Watch a package with a filter, change the filter of a watch (the same call), or stop watching.

    Sent from the package page, or from the list of watched packages (``back=watches``), where a refused
    filter is shown again next to its row.
    """
    path = f"/me/watches/{q(subject)}/{q(repo)}/{q(package)}"
    from_list = flask.request.form.get("back") == "watches"
    page = "/ui/watches" if from_list else f"/ui/packages/{q(subject)}/{q(repo)}/{q(package)}"
    if flask.request.form.get("action") == "unwatch":
        answer = call("DELETE", path)
        visitor().flash(f"You no longer watch {package}." if answer.ok else answer.message,
                        "success" if answer.ok else "error")
        return flask.redirect(page, 303)
    form = Form.posted(WATCH_FIELDS)
    kind = form.value("kind") if form.value("kind") in WATCH_KINDS else "all"
    body: dict[str, Any] = {"kind": kind}
    if kind == "regex":
        body["pattern"] = form.value("pattern")
    answer = call("PUT", path, json={"filter": body})
    if answer.ok:
        visitor().flash(f"You watch {package}: you will hear of "
                        + WATCH_DONE[kind].format(pattern=form.value("pattern")) + ".", "success")
        return flask.redirect(page + ("" if from_list else "#h-watch"), 303)
    form.refuse(answer)
    if from_list:
        return watches_page(refused=(subject, repo, package), form=form), 400
    sections = _package_sections(_package_answers(subject, repo, package))
    sections["watch_form"] = form
    return _package_page(subject, repo, package, sections, 400)


@blp.get("/watches")
@login_required
def watches() -> Any:
    return watches_page()


def watches_page(refused: tuple[str, str, str] | None = None, form: Form | None = None) -> Any:
    """The packages I watch, each with its filter to change in place (``refused``: the row whose change
    the API refused, shown with what was typed and the API's message)."""
    start = flask.request.args.get("start_pos", "0")
    start_pos = int(start) if start.isdigit() else 0
    answers = load({"watches": ("GET", "/me/watches", {"params": {"start_pos": start_pos}})})
    return render("watches.html", watches=section(answers["watches"]), refused=refused, form=form,
                  start_pos=start_pos, title="Watched packages")


@blp.post("/packages/<subject>/<repo>/<package>/reviews/<int:review_id>/reply")
@login_required
def reply(subject: str, repo: str, package: str, review_id: int) -> Any:
    """The package's owner answers a review (once; social says who may)."""
    base = f"/packages/{q(subject)}/{q(repo)}/{q(package)}"
    form = Form.posted(("body",))
    answer = call("POST", f"/reviews/{review_id}/reply", json={"body": form.value("body")})
    if answer.ok:
        visitor().flash("Your reply is posted.", "success")
        return flask.redirect(f"/ui{base}#review-{review_id}", 303)
    form.refuse(answer)
    if not form.errors:  # a refusal that is not about the text (not yours to answer, answered already)
        form.errors["body"], form.message = form.message, ""
    sections = _package_sections(_package_answers(subject, repo, package))
    sections["reply_form"] = {"review_id": review_id, "form": form}
    return _package_page(subject, repo, package, sections, 400)


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
    sections = _package_sections(_package_answers(subject, repo, package))
    sections["review_form"] = form.refuse(answer)
    return _package_page(subject, repo, package, sections, 400)


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
    answers = load({"package": ("GET", base), "repos": ("GET", f"/repos/{q(visitor().username or '')}")})
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

"""Webhooks: Bintray's ``/webhooks/...`` endpoints."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from catalog import schemas
from catalog.api import catalog, change
from catalog.queries.webhooks import list_webhooks
from catalog.use_cases import webhooks
from packyard.web import require_principal, success

blp = Blueprint("webhooks", __name__, description="Webhooks (Bintray API)")

LIMIT_HEADERS = {
    webhooks.LIMIT_HEADER: {"description": "webhooks a user may register", "schema": {"type": "integer"}},
    webhooks.REMAINING_HEADER: {"description": "webhooks the caller may still register", "schema": {"type": "integer"}},
}


@blp.route("/webhooks/<subject>")
class SubjectWebhooks(MethodView):
    @blp.response(200, schemas.WebhookOutSchema(many=True))
    def get(self, subject: str) -> Any:
        """Your webhooks on a subject's repositories you may publish to."""
        actor = require_principal()
        with catalog().reader() as session:
            return list_webhooks(session, actor, subject)


@blp.route("/webhooks/<subject>/<repo>")
class RepoWebhooks(MethodView):
    @blp.response(200, schemas.WebhookOutSchema(many=True))
    def get(self, subject: str, repo: str) -> Any:
        """Your webhooks on a repository you may publish to."""
        actor = require_principal()
        with catalog().reader() as session:
            return list_webhooks(session, actor, subject, repo)


@blp.route("/webhooks/<subject>/<repo>/<package>")
class PackageWebhook(MethodView):
    @blp.arguments(schemas.WebhookSchema)
    @blp.response(201, schemas.WebhookRegisteredSchema, headers=LIMIT_HEADERS)
    def post(self, body: dict[str, Any], subject: str, repo: str, package: str) -> Any:
        """Register (or replace) your webhook for the package's releases; ``%r`` and ``%p`` in the URL are
        replaced by the repository's and package's names. The answer shows the webhook's signing ``secret``
        this once (a new one with every registration). Targets that are not public are refused (400)."""
        actor = require_principal()
        cat = catalog()
        policy = cat.webhook_policy()
        registered = change(lambda uow: webhooks.register(uow, actor, subject, repo, package, body["url"],
                                                          body["method"], cat.clock(), policy=policy))
        return ({**success(), "secret": registered.secret}, 201,
                webhooks.limit_headers(policy.limit, registered.remaining))

    @blp.response(200, schemas.MessageSchema)
    def delete(self, subject: str, repo: str, package: str) -> Any:
        """Delete your webhook for the package."""
        actor = require_principal()
        change(lambda uow: webhooks.delete(uow, actor, subject, repo, package))
        return success()


@blp.route("/webhooks/<subject>/<repo>/<package>/<version>")
class TestWebhook(MethodView):
    @blp.arguments(schemas.WebhookTestSchema(), required=False)
    @blp.response(200, schemas.MessageSchema)
    def post(self, body: dict[str, Any], subject: str, repo: str, package: str, version: str) -> Any:
        """Test call of your webhook (or of the ``url`` given) for this release; the notifier makes it."""
        actor = require_principal()
        body = body or {}
        cat = catalog()
        change(lambda uow: webhooks.request_test(uow, actor, subject, repo, package, version, body.get("url"),
                                                 body.get("method"), allow=cat.settings.webhook_allowed_targets))
        return success()

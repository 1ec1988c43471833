"""Ownership claims ("report incorrect ownership of packages"), as JSON endpoints."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from catalog import schemas
from catalog.api import catalog, change, paged
from catalog.queries import claims as claim_queries
from catalog.use_cases import claims
from packyard.db import UnitOfWork
from packyard.paging import RANGE_HEADERS
from packyard.web import require_principal

blp = Blueprint("claims", __name__, description="Ownership claims")


@blp.route("/packages/<subject>/<repo>/<package>/claims")
class PackageClaims(MethodView):
    @blp.arguments(schemas.ClaimCreateSchema)
    @blp.response(201, schemas.ClaimOutSchema)
    def post(self, body: dict[str, Any], subject: str, repo: str, package: str) -> Any:
        """Claim a package as yours; it would move to ``target``, a repository you may publish to."""
        actor = require_principal()
        cat = catalog()
        new = claims.NewClaim(reason=body["reason"], evidence=body["evidence"], target=body["target"])

        def file(uow: UnitOfWork) -> dict[str, Any]:
            claim = claims.file_claim(uow, actor, subject, repo, package, new, cat.clock(),
                                      response_days=cat.settings.claim_owner_response_days)
            return claim_queries.get_claim(uow.session, actor, claim.id)
        return change(file), 201


@blp.route("/claims")
class AllClaims(MethodView):
    @blp.arguments(schemas.ClaimListQuery, location="query")
    @blp.response(200, schemas.ClaimOutSchema(many=True), headers=RANGE_HEADERS)
    def get(self, query: dict[str, Any]) -> Any:
        """Every claim, newest first (platform administrators; ``status=disputed`` for those awaiting them)."""
        actor = require_principal()
        with catalog().reader() as session:
            return paged(claim_queries.list_claims(session, actor, query["status"], query["start_pos"]))


@blp.route("/me/claims")
class MyClaims(MethodView):
    @blp.arguments(schemas.ClaimListQuery, location="query")
    @blp.response(200, schemas.ClaimOutSchema(many=True), headers=RANGE_HEADERS)
    def get(self, query: dict[str, Any]) -> Any:
        """Claims the caller filed and claims on packages they own, newest first."""
        actor = require_principal()
        with catalog().reader() as session:
            return paged(claim_queries.list_my_claims(session, actor, query["status"], query["start_pos"]))


@blp.route("/claims/<int(max=2147483647):claim_id>")
class ClaimResource(MethodView):
    @blp.response(200, schemas.ClaimOutSchema)
    def get(self, claim_id: int) -> Any:
        """A claim with its whole history (its parties and platform administrators only)."""
        actor = require_principal()
        with catalog().reader() as session:
            return claim_queries.get_claim(session, actor, claim_id)


def _step(claim_id: int, act: Any, **kwargs: Any) -> Any:
    actor = require_principal()
    cat = catalog()

    def step(uow: UnitOfWork) -> dict[str, Any]:
        act(uow, actor, claim_id, now=cat.clock(), **kwargs)
        return claim_queries.get_claim(uow.session, actor, claim_id)
    return change(step)


@blp.route("/claims/<int(max=2147483647):claim_id>/consent")
class ConsentToClaim(MethodView):
    @blp.arguments(schemas.ClaimAnswerSchema(), required=False)
    @blp.response(200, schemas.ClaimOutSchema)
    def post(self, body: dict[str, Any], claim_id: int) -> Any:
        """The owner agrees: the package, its versions and files move to the claimant's repository at once."""
        return _step(claim_id, claims.consent, message=(body or {}).get("message"))


@blp.route("/claims/<int(max=2147483647):claim_id>/object")
class ObjectToClaim(MethodView):
    @blp.arguments(schemas.ClaimAnswerSchema(), required=False)
    @blp.response(200, schemas.ClaimOutSchema)
    def post(self, body: dict[str, Any], claim_id: int) -> Any:
        """The owner disagrees: a platform administrator decides."""
        return _step(claim_id, claims.object_to, message=(body or {}).get("message"))


@blp.route("/claims/<int(max=2147483647):claim_id>/withdraw")
class WithdrawClaim(MethodView):
    @blp.arguments(schemas.ClaimAnswerSchema(), required=False)
    @blp.response(200, schemas.ClaimOutSchema)
    def post(self, body: dict[str, Any], claim_id: int) -> Any:
        """The claimant withdraws an open claim."""
        return _step(claim_id, claims.withdraw, message=(body or {}).get("message"))


@blp.route("/claims/<int(max=2147483647):claim_id>/decide")
class DecideClaim(MethodView):
    @blp.arguments(schemas.ClaimDecisionSchema)
    @blp.response(200, schemas.ClaimOutSchema)
    def post(self, body: dict[str, Any], claim_id: int) -> Any:
        """A platform administrator decides a disputed claim, or one whose owner did not answer in time."""
        return _step(claim_id, claims.decide, approve=body["decision"] == "approve", reason=body["reason"])

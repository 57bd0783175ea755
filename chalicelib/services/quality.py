"""Partner scorecards: the data quality of each partner's full deliveries (counts only)."""

from __future__ import annotations

from chalicelib.auth import Principal
from chalicelib.config import get_settings
from chalicelib.errors import Forbidden, NotFound
from chalicelib.models.quality import PartnerRanking, Scorecard
from chalicelib.rules.quality import ranked, scorecard
from chalicelib.store.quality import MAX_TREND_POINTS, DynamoQuality, QualityStore


def partner_scorecard(
    principal: Principal, partner_id: str, store: QualityStore | None = None
) -> Scorecard:
    """One partner's scorecard: a partner its own, an administrator any configured partner's.
    One query of the partner's snapshots."""
    if "admin" not in principal.roles:
        if not principal.partner_id:
            raise Forbidden("the token names no partner", code="no_partner_in_token")
        if principal.partner_id != partner_id:
            raise Forbidden("a partner sees only its own scorecard", code="other_partner")
    if partner_id not in get_settings().partners:
        raise NotFound("no such partner", code="partner_not_found")
    history = list((store or DynamoQuality()).history(partner_id, limit=MAX_TREND_POINTS))
    return scorecard(partner_id, history)


def partner_ranking(store: QualityStore | None = None) -> PartnerRanking:
    """Every configured partner's latest full delivery, worst score first (one query of one
    item per partner); without trends, which each partner's scorecard has."""
    store = store or DynamoQuality()
    cards = [
        scorecard(partner_id, list(store.history(partner_id, limit=1)), trend=False)
        for partner_id in get_settings().partners
    ]
    return PartnerRanking(partners=ranked(cards))

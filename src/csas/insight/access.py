"""The one door to the insight back office: strategy staff and administrators only
(`engagement.view_responses`, the permission the engagement back office uses), working on
the site's strategy."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from csas.strategy import selectors as strategy_selectors
from csas.strategy.models import Strategy


def require_office(request: HttpRequest) -> None:
    """403 for anyone but strategy staff and administrators."""
    if not request.user.has_perm("engagement.view_responses"):
        raise PermissionDenied


def office_strategy() -> Strategy:
    """The strategy the office works on; 404 before one is loaded."""
    strategy = strategy_selectors.strategy_get_default()
    if strategy is None:
        raise Http404("No strategy loaded.")
    return strategy


def strategy_for_office(request: HttpRequest) -> Strategy:
    """Both checks at once: 403 for anyone else, then the strategy."""
    require_office(request)
    return office_strategy()

"""Who may see raw engagement data (responses, unmoderated comments, personal data)."""

from __future__ import annotations

import rules

from csas.strategy.rules import is_strategy_office

rules.add_perm("engagement.view_responses", is_strategy_office)
rules.add_perm("engagement.moderate", is_strategy_office)

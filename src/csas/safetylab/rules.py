"""Who may manage the safety data lab: load, publish and unpublish analyses, and use the
service-gap and what-if allocation tools. Published pages are public and need no rule."""

from __future__ import annotations

import rules

from csas.strategy.rules import is_strategy_office

rules.add_perm("safetylab.manage", is_strategy_office)

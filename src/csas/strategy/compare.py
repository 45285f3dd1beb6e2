"""What changed between two versions of a strategy: the vision, goals, objectives, actions and
focus populations added, removed or edited, field by field.

Items are matched on their stable keys (goal number, objective code within its goal, action
slug, focus population name within its goal), so a renamed action is "changed" and a
renumbered goal is "removed" and "added". The strategy office reads it before publishing a
new version (`/manage/versions/<pk>/compare/`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from csas.strategy.models import Action, FocusPopulation, Objective, StrategyVersion


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class ItemChange:
    """One item of the strategy that is new, gone or edited in the newer version.

    Fields:
        kind: what it is ("Goal", "Action", ...), in words.
        label: which one ("Goal 3", "3.6 Promote alternatives...").
        status: ``added``, ``removed`` or ``changed``.
        changes: for a changed item, each field that differs.
    """

    kind: str
    label: str
    status: str
    changes: tuple[FieldChange, ...] = ()


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _compare(
    kind: str,
    older: dict[Any, Any],
    newer: dict[Any, Any],
    fields: Iterable[tuple[str, Callable[[Any], Any]]],
    label: Callable[[Any], str],
) -> list[ItemChange]:
    fields = list(fields)
    result = []
    for key in sorted(set(older) | set(newer), key=str):
        before, after = older.get(key), newer.get(key)
        if before is None:
            result.append(ItemChange(kind, label(after), "added"))
        elif after is None:
            result.append(ItemChange(kind, label(before), "removed"))
        else:
            changes = tuple(
                FieldChange(name, _text(read(before)), _text(read(after)))
                for name, read in fields
                if _text(read(before)) != _text(read(after))
            )
            if changes:
                result.append(ItemChange(kind, label(after), "changed", changes))
    return result


def version_differences(older: StrategyVersion, newer: StrategyVersion) -> list[ItemChange]:
    """Everything that differs from `older` to `newer`, the strategy first, then goals,
    objectives, actions and focus populations (each in key order)."""
    changes = _compare(
        str(_("Strategy")),
        {"version": older},
        {"version": newer},
        [
            (str(_("Vision")), lambda v: v.vision),
            (str(_("What community safety means")), lambda v: v.safety_definition),
            (str(_("Summary")), lambda v: v.summary),
        ],
        lambda v: str(_("The strategy")),
    )
    changes += _compare(
        str(_("Goal")),
        {g.number: g for g in older.goals.all()},
        {g.number: g for g in newer.goals.all()},
        [
            (str(_("Short name")), lambda g: g.short_name),
            (str(_("Title")), lambda g: g.title),
            (str(_("Statement")), lambda g: g.statement),
        ],
        lambda g: f"{_('Goal')} {g.number}: {g.title}",
    )

    def objectives(version: StrategyVersion) -> dict[Any, Objective]:
        return {
            (o.goal.number, o.code): o
            for o in Objective.objects.filter(goal__version=version).select_related("goal")
        }

    changes += _compare(
        str(_("Objective")),
        objectives(older),
        objectives(newer),
        [
            (str(_("Title")), lambda o: o.title),
            (str(_("Description")), lambda o: o.description),
        ],
        lambda o: f"{o.code}: {o.title}",
    )

    def actions(version: StrategyVersion) -> dict[Any, Action]:
        return {
            a.slug: a
            for a in Action.objects.filter(version=version).select_related(
                "goal", "objective", "lead_department"
            )
        }

    changes += _compare(
        str(_("Action")),
        actions(older),
        actions(newer),
        [
            (str(_("Code")), lambda a: a.code),
            (str(_("Title")), lambda a: a.title),
            (str(_("Description")), lambda a: a.description),
            (str(_("Goal")), lambda a: a.goal.number),
            (str(_("Objective")), lambda a: a.objective.code if a.objective else ""),
            (str(_("Horizon")), lambda a: a.get_horizon_display()),
            (
                str(_("Lead department")),
                lambda a: a.lead_department.name if a.lead_department else "",
            ),
        ],
        lambda a: f"{a.code}: {a.title}",
    )

    def populations(version: StrategyVersion) -> dict[Any, FocusPopulation]:
        return {
            (p.goal.number, p.name): p
            for p in FocusPopulation.objects.filter(goal__version=version).select_related("goal")
        }

    changes += _compare(
        str(_("Focus population")),
        populations(older),
        populations(newer),
        [(str(_("Description")), lambda p: p.description)],
        lambda p: f"{_('Goal')} {p.goal.number}: {p.name}",
    )
    return changes

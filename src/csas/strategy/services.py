"""Writes to strategy content. Views, admin actions and commands call these, nothing else."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from django.db import models, transaction

from csas.accounts.models import User
from csas.strategy.loader import StrategyDocument, quarter_bounds, read_strategy_file
from csas.strategy.models import (
    Action,
    ActionPartner,
    City,
    Department,
    DiscussionQuestion,
    FocusPopulation,
    Geography,
    GeographyKind,
    Goal,
    Milestone,
    Objective,
    Partner,
    Strategy,
    StrategyVersion,
    Workstream,
)

M = TypeVar("M", bound=models.Model)


@dataclass
class LoadReport:
    """What a strategy load changed, by model name."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    strategy_slug: str = ""

    def count(self, bucket: dict[str, int], model: type[models.Model], n: int = 1) -> None:
        bucket[model.__name__] = bucket.get(model.__name__, 0) + n

    def summary(self) -> str:
        parts = []
        for label, bucket in (
            ("created", self.created),
            ("updated", self.updated),
            ("deleted", self.deleted),
        ):
            if bucket:
                items = ", ".join(f"{n} {name}" for name, n in sorted(bucket.items()))
                parts.append(f"{label} {items}")
        return "; ".join(parts) or "nothing changed"


def _upsert(
    model: type[M], report: LoadReport, lookup: dict[str, Any], values: dict[str, Any]
) -> M:
    """Create or update one row, saving (and so writing history) only when something changed."""
    instance = model._default_manager.filter(**lookup).first()
    if "translations" in values:
        # Translations entered in the back office stay; the file's replace them text by text
        # and are recorded as made from the file's English.
        from csas.strategy.translation import merged_translations

        values = {
            **values,
            "translations": merged_translations(
                getattr(instance, "translations", None), values["translations"], values
            ),
        }
    if instance is None:
        instance = model(**lookup, **values)
        instance.full_clean()
        instance.save()
        report.count(report.created, model)
        return instance
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    if changed:
        instance.full_clean()
        instance.save()
        report.count(report.updated, model)
    else:
        report.count(report.unchanged, model)
    return instance


def _stage_from_file(version: StrategyVersion, action_spec: dict[str, Any]) -> dict[str, Any]:
    """The action's stage as the file gives it, unless a published progress update already
    set it: from then on the implementation record drives the stage (a reload keeps it)."""
    from django.apps import apps

    if version.pk is not None:
        updates = apps.get_model("progress", "ActionUpdate")._default_manager
        if updates.filter(
            action__version=version, action__slug=action_spec["slug"], state="published"
        ).exists():
            return {}
    return {"status": action_spec.get("status", "not_started")}


def _delete_missing(queryset: models.QuerySet[M], keep: list[int], report: LoadReport) -> None:
    stale = queryset.exclude(pk__in=keep)
    for instance in stale:
        # One by one so each deletion is written to the history.
        instance.delete()
        report.count(report.deleted, queryset.model)


def _load_geography(document: StrategyDocument, city: City, report: LoadReport) -> None:
    for layer in document.geography:
        kept = []
        for feature in layer.features:
            geography = _upsert(
                Geography,
                report,
                {"city": city, "kind": layer.kind, "code": feature.code},
                {
                    "name": feature.name,
                    "population": feature.population,
                    "attributes": feature.attributes,
                    "geometry": feature.geometry,
                    "source": layer.source,
                },
            )
            kept.append(geography.pk)
        _delete_missing(Geography.objects.filter(city=city, kind=layer.kind), kept, report)
    block_groups = Geography.objects.filter(city=city, kind=GeographyKind.BLOCK_GROUP)
    if block_groups.exists():
        total = sum(bg.population or 0 for bg in block_groups)
        _upsert(
            Geography,
            report,
            {"city": city, "kind": GeographyKind.CITY, "code": city.slug},
            {
                "name": city.name,
                "population": total,
                "attributes": {},
                "geometry": None,
                "source": f"Sum of {block_groups.count()} block groups",
            },
        )


def _load_version(
    strategy: Strategy,
    spec: dict[str, Any],
    report: LoadReport,
    departments: dict[str, Department],
    partners: dict[str, Partner],
) -> None:
    version = _upsert(
        StrategyVersion,
        report,
        {"strategy": strategy, "key": spec["key"]},
        {
            "label": spec["label"],
            "status": spec["status"],
            "dated": dt.date.fromisoformat(spec["dated"]),
            "is_published": bool(spec.get("published")),
            "vision": spec.get("vision", ""),
            "safety_definition": spec.get("safety_definition", ""),
            "summary": spec.get("summary", ""),
            "source_note": spec.get("source_note", ""),
            "translations": spec.get("translations", {}),
        },
    )
    goal_ids, action_ids = [], []
    for goal_spec in spec.get("goals", []):
        goal = _upsert(
            Goal,
            report,
            {"version": version, "number": goal_spec["number"]},
            {
                "short_name": goal_spec["short_name"],
                "title": goal_spec["title"],
                "statement": goal_spec.get("statement", ""),
                "translations": goal_spec.get("translations", {}),
            },
        )
        goal_ids.append(goal.pk)
        objectives: dict[str, Objective] = {}
        for order, objective_spec in enumerate(goal_spec.get("objectives", [])):
            objectives[objective_spec["code"]] = _upsert(
                Objective,
                report,
                {"goal": goal, "code": objective_spec["code"]},
                {
                    "title": objective_spec["title"],
                    "order": order,
                    "description": objective_spec.get("description", ""),
                    "translations": objective_spec.get("translations", {}),
                },
            )
        _delete_missing(goal.objectives.all(), [o.pk for o in objectives.values()], report)
        for order, action_spec in enumerate(goal_spec.get("actions", [])):
            lead = action_spec.get("lead_department")
            objective = action_spec.get("objective")
            action = _upsert(
                Action,
                report,
                {"version": version, "slug": action_spec["slug"]},
                {
                    "goal": goal,
                    "code": action_spec["code"],
                    "title": action_spec["title"],
                    "objective": objectives[objective] if objective else None,
                    "code_origin": action_spec.get("code_origin", "source"),
                    "data_note": action_spec.get("duplicate_code_note", ""),
                    "description": action_spec.get("description", ""),
                    "horizon": action_spec.get("horizon", ""),
                    "lead_department": departments[lead] if lead else None,
                    "order": order,
                    "translations": action_spec.get("translations", {}),
                }
                | _stage_from_file(version, action_spec),
            )
            action_ids.append(action.pk)
            wanted = {departments[slug] for slug in action_spec.get("supporting_departments", [])}
            if set(action.supporting_departments.all()) != wanted:
                action.supporting_departments.set(wanted)
            links = []
            for link in action_spec.get("partners", []):
                links.append(
                    _upsert(
                        ActionPartner,
                        report,
                        {"action": action, "partner": partners[link["partner"]]},
                        {"role": link.get("role", "")},
                    ).pk
                )
            _delete_missing(action.partner_roles.all(), links, report)
        populations = []
        for order, population_spec in enumerate(goal_spec.get("focus_populations", [])):
            populations.append(
                _upsert(
                    FocusPopulation,
                    report,
                    {"goal": goal, "slug": population_spec["slug"]},
                    {
                        "name": population_spec["name"],
                        "order": order,
                        "description": population_spec.get("description", ""),
                        "translations": population_spec.get("translations", {}),
                    },
                ).pk
            )
        _delete_missing(goal.focus_populations.all(), populations, report)
    _delete_missing(version.actions.all(), action_ids, report)
    _delete_missing(version.goals.all(), goal_ids, report)

    workstream_ids = []
    for w_order, workstream_spec in enumerate(spec.get("workstreams", [])):
        workstream = _upsert(
            Workstream,
            report,
            {"version": version, "slug": workstream_spec["slug"]},
            {
                "name": workstream_spec["name"],
                "order": w_order,
                "translations": workstream_spec.get("translations", {}),
            },
        )
        workstream_ids.append(workstream.pk)
        milestone_ids = []
        for m_order, milestone_spec in enumerate(workstream_spec.get("milestones", [])):
            starts_on, _ = quarter_bounds(milestone_spec["quarter"])
            _, ends_on = quarter_bounds(milestone_spec.get("until", milestone_spec["quarter"]))
            milestone_ids.append(
                _upsert(
                    Milestone,
                    report,
                    {"workstream": workstream, "order": m_order},
                    {
                        "title": milestone_spec["title"],
                        "starts_on": starts_on,
                        "ends_on": ends_on,
                        "data_note": milestone_spec.get("note", ""),
                        "translations": milestone_spec.get("translations", {}),
                    },
                ).pk
            )
        _delete_missing(workstream.milestones.all(), milestone_ids, report)
    _delete_missing(version.workstreams.all(), workstream_ids, report)

    question_ids = []
    for order, question in enumerate(spec.get("discussion_questions", [])):
        if isinstance(question, str):
            question = {"text": question}
        question_ids.append(
            _upsert(
                DiscussionQuestion,
                report,
                {"version": version, "order": order},
                {"text": question["text"], "translations": question.get("translations", {})},
            ).pk
        )
    _delete_missing(version.discussion_questions.all(), question_ids, report)


@transaction.atomic
def strategy_load(*, document: StrategyDocument) -> LoadReport:
    """Write a checked strategy document; all or nothing.

    Rows are matched on their natural keys (slugs, goal numbers, action slugs), so loading
    the same file twice changes nothing, and loading an edited file records each change in
    the edit history. Content that the file no longer lists is deleted.
    """
    data = document.data
    report = LoadReport(strategy_slug=data["strategy"]["slug"])
    city = _upsert(
        City,
        report,
        {"slug": data["city"]["slug"]},
        {"name": data["city"]["name"], "region": data["city"].get("region", "")},
    )
    existing = Strategy.objects.filter(slug=data["strategy"]["slug"]).first()
    if existing is not None and existing.city_id != city.pk:
        from csas.strategy.loader import Problem, StrategyFileError

        raise StrategyFileError(
            document.path,
            [
                Problem(
                    "strategy.slug",
                    f"{existing.slug!r} already belongs to the city "
                    f"{existing.city.slug!r}; choose another strategy slug",
                )
            ],
        )
    strategy = _upsert(
        Strategy,
        report,
        {"slug": data["strategy"]["slug"]},
        {
            "city": city,
            "name": data["strategy"]["name"],
            "owner_office": data["strategy"].get("owner_office", ""),
            "source_file": document.path.name,
            "schema_version": data["schema_version"],
        },
    )
    departments = {
        spec["slug"]: _upsert(
            Department,
            report,
            {"city": city, "slug": spec["slug"]},
            {"name": spec["name"], "abbreviation": spec.get("abbreviation", "")},
        )
        for spec in data.get("departments", [])
    }
    partners = {
        spec["slug"]: _upsert(
            Partner,
            report,
            {"city": city, "slug": spec["slug"]},
            {
                "organisation": spec["organisation"],
                "description": spec.get("description", ""),
                "website": spec.get("website", ""),
                "contact_name": spec.get("contact_name", ""),
                "contact_email": spec.get("contact_email", ""),
            },
        )
        for spec in data.get("partners", [])
    }
    _load_geography(document, city, report)
    # At most one version is published at any moment: unpublish first, then write versions.
    published = {spec["key"] for spec in document.versions if spec.get("published")}
    for version in strategy.versions.filter(is_published=True).exclude(key__in=published):
        version.is_published = False
        version.save(update_fields=["is_published"])
    for spec in document.versions:
        _load_version(strategy, spec, report, departments, partners)
    keys = [spec["key"] for spec in document.versions]
    _delete_missing(
        strategy.versions.all(),
        list(strategy.versions.filter(key__in=keys).values_list("pk", flat=True)),
        report,
    )
    return report


def strategy_load_file(*, path: Path) -> LoadReport:
    """Read, check and load a strategy file; raises `StrategyFileError` before any write."""
    return strategy_load(document=read_strategy_file(path))


@transaction.atomic
def version_publish(*, version: StrategyVersion) -> StrategyVersion:
    """Make `version` the one the public sees, unpublishing the strategy's others."""
    for other in StrategyVersion.objects.filter(
        strategy_id=version.strategy_id, is_published=True
    ).exclude(pk=version.pk):
        other.is_published = False
        other.save(update_fields=["is_published"])
    if not version.is_published:
        version.is_published = True
        version.save(update_fields=["is_published"])
    return version


@transaction.atomic
def action_update(
    *,
    action: Action,
    editor: User,
    title: str,
    description: str,
    status: str,
    horizon: str,
    supporting_departments: list[Department],
) -> Action:
    """Save an edit made in the back office; the caller has checked `strategy.edit_action`."""
    action.title = title
    action.description = description
    action.status = status
    action.horizon = horizon
    action._history_user = editor  # type: ignore[attr-defined]
    action.full_clean()
    action.save()
    if set(action.supporting_departments.all()) != set(supporting_departments):
        action.supporting_departments.set(supporting_departments)
    return action

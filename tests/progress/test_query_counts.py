"""Every public list and detail page, and My updates, takes a fixed number of SQL queries.

Each page is requested twice over: once with a small implementation record (one reporting
period, one of everything per action) and once with a bigger one (more actions, six periods
of updates, several milestones, funding lines, council actions and pieces of evidence per
action, drafts in review, indicators, edits in the history). The pinned count is the same for
both, so it cannot grow with rows (no N+1). benchmarks/bench_progress.py measures the same
pages at the issue's full scale.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from csas.accounts.models import User
from csas.progress.models import (
    ActionMilestone,
    ActionOwner,
    ActionUpdate,
    CouncilAction,
    Evidence,
    FundingLine,
    Indicator,
    ReportingPeriod,
    UpdateState,
)
from csas.strategy.models import (
    Action,
    Department,
    DiscussionQuestion,
    Milestone,
    StrategyVersion,
    Workstream,
)


@dataclass(frozen=True)
class Size:
    extra_actions: int
    periods: int
    per_action: int  # milestones, funding lines, council actions, evidence
    indicators: int
    edits: int  # actions re-titled and indicator targets changed after creation
    drafts: int  # updates not yet published, in the current period


SIZES = {
    "small": Size(extra_actions=0, periods=1, per_action=1, indicators=1, edits=1, drafts=1),
    "big": Size(extra_actions=40, periods=6, per_action=4, indicators=12, edits=10, drafts=12),
}


@dataclass(frozen=True)
class Dataset:
    size: str
    action: Action  # the action whose page is requested (3.6, led by TPD)
    editor: User  # a TPD department editor who owns actions and has drafts waiting


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _months_before(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def _build(
    size: Size, version: StrategyVersion, tpd: Department, user_for: Any
) -> tuple[Action, User]:
    editor = user_for("department_editor")
    office = user_for("strategy_staff")
    goals = list(version.goals.order_by("number"))
    bulk_create_with_history(
        [
            Action(
                version=version,
                goal=goals[n % len(goals)],
                code=f"{goals[n % len(goals)].number}.{50 + n}",
                slug=f"extra-{n}",
                title=f"Extra action {n}",
                description="Synthetic action for query counts.",
                lead_department=tpd,
                order=50 + n,
            )
            for n in range(size.extra_actions)
        ],
        Action,
    )
    action = Action.objects.get(version=version, slug="3-6")
    action.lead_department = tpd
    action.save()
    action.supporting_departments.set(Department.objects.exclude(pk=tpd.pk)[: size.per_action])
    actions = list(version.actions.order_by("pk"))

    current = _quarter_start(timezone.localdate())
    periods = []
    for back in range(size.periods, -1, -1):
        starts = _months_before(current, 3 * back)
        ends = _months_before(starts, -3) - dt.timedelta(days=1)
        periods.append(
            ReportingPeriod.objects.create(
                strategy=version.strategy,
                label=f"{starts.year} Q{(starts.month - 1) // 3 + 1}",
                starts_on=starts,
                ends_on=ends,
                due_on=ends + dt.timedelta(days=15),
            )
        )
    published_at = timezone.now() - dt.timedelta(days=30)
    ActionUpdate.objects.bulk_create(
        ActionUpdate(
            action=a,
            period=period,
            status="on_track",
            narrative=f"Published update {n}.",
            state=UpdateState.PUBLISHED,
            author=editor,
            reviewed_by=office,
            approved_by=office,
            published_at=published_at,
        )
        for period in periods[:-1]
        for n, a in enumerate(actions)
    )
    states = [UpdateState.DRAFT, UpdateState.DEPARTMENT_REVIEW, UpdateState.OFFICE_APPROVAL]
    drafts = ActionUpdate.objects.bulk_create(
        ActionUpdate(
            action=a,
            period=periods[-1],
            status="at_risk",
            narrative=f"Draft {n}, not public.",
            state=states[n % 3],
            author=editor,
        )
        for n, a in enumerate([action, *[a for a in actions if a != action][: size.drafts - 1]])
    )
    ActionOwner.objects.bulk_create(ActionOwner(action=a, user=editor) for a in actions[:10])

    first_day = periods[0].starts_on
    for a in actions:
        for n in range(size.per_action):
            ActionMilestone.objects.create(
                action=a,
                title=f"Milestone {n}",
                planned_end=first_day + dt.timedelta(days=60 * n),
                actual_end=first_day + dt.timedelta(days=60 * n) if n % 2 else None,
                order=n,
            )
            FundingLine.objects.create(
                action=a,
                source=f"Source {n}",
                amount=Decimal(1000 * (n + 1)),
                status="funded",
                fiscal_year=str(2024 + n),
            )
            CouncilAction.objects.create(
                action=a, title=f"Resolution {n}", url=f"https://example.org/{n}"
            )
            Evidence.objects.create(action=a, title=f"Evidence {n}", url=f"https://example.org/{n}")
    Evidence.objects.bulk_create(
        Evidence(action=d.action, update=d, title="Evidence of a draft") for d in drafts
    )

    indicators = [
        Indicator.objects.create(
            strategy=version.strategy,
            slug=f"indicator-{n}",
            name=f"Indicator {n}",
            kind="performance",
            unit="calls",
            direction="decrease",
            target_value=10.0,
        )
        for n in range(size.indicators)
    ]
    for n, indicator in enumerate(indicators):
        indicator.actions.add(actions[n % len(actions)], action)

    # Edits after creation, so that the changelog compares records of each kind.
    for a in actions[: size.edits]:
        a.title = f"{a.title} (revised)"
        a.save()
    for indicator in indicators[: size.edits]:
        indicator.target_value = 5.0
        indicator.save()
    goal = goals[0]
    goal.title = f"{goal.title} (revised)"
    goal.save()

    for workstream in Workstream.objects.filter(version=version):
        for n in range(size.per_action):
            Milestone.objects.create(
                workstream=workstream,
                title=f"Extra step {n}",
                starts_on=dt.date(2026, 1, 1),
                ends_on=dt.date(2026, 12, 31),
                order=100 + n,
            )
    for n in range(size.per_action):
        DiscussionQuestion.objects.create(version=version, text=f"Question {n}?", order=100 + n)
    return action, editor


@pytest.fixture(params=list(SIZES))
def dataset(
    request: pytest.FixtureRequest,
    published_version: StrategyVersion,
    tpd: Department,
    user_for: Any,
) -> Dataset:
    action, editor = _build(SIZES[request.param], published_version, tpd, user_for)
    return Dataset(size=request.param, action=action, editor=editor)


def _count(client: Client, path: str, expected: int, assert_num_queries: Any) -> str:
    """The page's body, after checking it answers 200 in exactly `expected` queries."""
    client.get(path)  # once first: per-process caches (content types, translations) warm up
    with assert_num_queries(expected):
        response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_the_big_dataset_is_bigger(dataset: Dataset, published_version: StrategyVersion) -> None:
    updates = ActionUpdate.objects.filter(state=UpdateState.PUBLISHED).count()
    if dataset.size == "big":
        assert published_version.actions.count() == 62
        assert updates == 62 * 6
    else:
        assert published_version.actions.count() == 22
        assert updates == 22


def test_the_home_page_takes_5_queries_however_many_actions(
    dataset: Dataset, django_assert_num_queries: Any
) -> None:
    _count(Client(), "/", 5, django_assert_num_queries)


def test_a_goal_page_takes_7_queries_however_many_actions(
    dataset: Dataset, django_assert_num_queries: Any
) -> None:
    # 6 for the goal, its actions, populations and the other goals; 1 for latest statuses.
    body = _count(Client(), "/goals/3/", 7, django_assert_num_queries)
    assert "Action 3.6" in body


def test_an_action_page_takes_13_queries_however_many_updates_milestones_and_indicators(
    dataset: Dataset, django_assert_num_queries: Any
) -> None:
    # 10 for the action and its implementation, 2 for linked indicators, 1 for its themes.
    body = _count(Client(), "/actions/3-6/", 13, django_assert_num_queries)
    assert "Milestone 0" in body
    assert "Indicator 0" in body  # every indicator of the dataset is linked to this action
    assert "not public" not in body
    assert "Evidence of a draft" not in body


def test_the_plan_page_takes_5_queries_however_many_milestones(
    dataset: Dataset, django_assert_num_queries: Any
) -> None:
    _count(Client(), "/plan/", 5, django_assert_num_queries)


def test_the_progress_page_takes_5_queries_however_many_updates(
    dataset: Dataset, django_assert_num_queries: Any
) -> None:
    body = _count(Client(), "/progress/", 5, django_assert_num_queries)
    assert "not public" not in body


def test_the_changelog_takes_8_queries_however_many_edits(
    dataset: Dataset, django_assert_num_queries: Any
) -> None:
    body = _count(Client(), "/changes/", 8, django_assert_num_queries)
    assert "(revised)" in body


def test_the_neighborhoods_page_takes_6_queries(
    dataset: Dataset, django_assert_num_queries: Any
) -> None:
    # the sixth asks whether a safety analysis is published, to link to it
    _count(Client(), "/neighborhoods/", 6, django_assert_num_queries)


def test_my_updates_takes_5_queries_however_many_drafts_and_actions(
    dataset: Dataset, django_assert_num_queries: Any
) -> None:
    client = Client()
    client.force_login(dataset.editor)
    body = _count(client, "/manage/updates/", 5, django_assert_num_queries)
    assert "Edit and send" in body

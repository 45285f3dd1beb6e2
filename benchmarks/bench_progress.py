"""Public pages and API lists at scale: p50/p95/p99 under gunicorn, against a static file.

Usage:
    .venv/bin/python benchmarks/bench_progress.py [--requests 200] [--warmup 10]
        [--clients 1] [--workers 3] [--actions 500] [--periods 20] [--indicators 200]
        [--months 120] [--give-up 1] [--postgres [SERVER_URL]] [--keep]

Builds a fresh database in a temporary data folder: SQLite by default; with ``--postgres``
a database ``csas_bench_progress`` on the PostgreSQL server at SERVER_URL (default
postgres://postgres@127.0.0.1:5432, dropped at the end), handed to the server through
DATABASE_URL. It runs csas's migrations, loads the bundled Tacoma strategy and then generates,
with bulk inserts, the scale of the performance issue:

* the published version grown to ``--actions`` actions (500), spread over its four goals,
  created through simple_history and a third of them later re-titled (and a quarter of
  the indicators' targets changed), so that the public changelog has edits to compare;
* ``--periods`` quarterly reporting periods (20) with one published update per action and
  period (10,000), and one more, current, period holding drafts and updates in review that
  the public must never see (their narrative carries a marker the script looks for);
* per action: 4 milestones, 2 funding lines, evidence (some of it tied to a draft) and for
  a third of the actions a council action; an owner for 50 actions;
* ``--indicators`` public indicators (200) with ``--months`` monthly observations each
  (120), a year of breakdown rows by council district for one in ten of them (some
  suppressed), each linked to 1-3 actions; plus 5 private indicators.

It then serves csas with gunicorn the way ``csas serve`` does (``csas.config.wsgi``, sync
workers, ``--workers`` of them, access log on), on a free loopback port, with the API's
anonymous rate limit raised out of reach (CSAS_API_RATE_PER_MINUTE) so that the benchmark
measures pages, not 429s. ``--clients`` clients (1: one request at a time) request every URL
``--warmup`` times unmeasured, then ``--requests`` times each, the URLs shuffled in every
round (seed 0) so that noise from other work on the machine falls on all of them alike.

The baseline, measured in the same rounds by the same server, is a static file
(/static/csas/site.css, served by WhiteNoise inside the gunicorn worker): every ratio is a
URL's latency over the baseline's. A csas 404 page (full middleware and the base template,
no database) is shown for reference. Newer pages (/indicators/, /indicators/<slug>/,
/reports/, a quarterly and an annual report, /data/, /you-said-we-did/, /api/v1/actions/<slug>)
are measured when their URL resolves and skipped with a note otherwise.

Before the load, each URL is requested twice in this process through Django's test client,
to count its SQL queries (second request). A URL whose second request takes more than
``--give-up`` seconds (1) is reported as FAIL and left out of the load, which would otherwise
take hours. Each measured row is PASS when it answered 200 every time with a p95 under
200 ms (the issue's target); the run passes when every page does.

Only loopback traffic; gunicorn is stopped and the data folder (and PostgreSQL database)
removed on the way out, also after Ctrl+C or an error. Record the figures in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import importlib.metadata
import io
import logging
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE_NAME = "csas_bench_progress"
TARGET_P95_MS = 200.0
DRAFT_MARKER = "UNPUBLISHED-DRAFT-7f3a"  # in every draft narrative; must never be served
BASELINE = "/static/csas/site.css"
REQUEST_TIMEOUT = 60.0


# --- the data ------------------------------------------------------------------------------------


@contextlib.contextmanager
def timed(label: str, timings: list[tuple[str, float]]) -> Iterator[None]:
    begun = time.perf_counter()
    yield
    timings.append((label, time.perf_counter() - begun))


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _aware(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


WORDS = (  # noqa: SIM905  (a sentence of words reads better than a list of 28 strings)
    "community residents safety outreach program officers partners neighborhood "
    "youth violence prevention housing lighting response calls training data report "
    "council grant hiring pilot launched expanded evaluated delayed budget staff"
).split()


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


@dataclass
class Generated:
    counts: dict[str, int]
    timings: list[tuple[str, float]]
    action_slug: str
    goal_number: int
    indicator_slug: str
    period_pk: int  # the latest period with published updates
    year: int  # the last full year of updates


def generate(options: argparse.Namespace) -> Generated:
    """The issue's scale, in bulk, in one transaction per step (seed 0)."""
    from django.db import transaction
    from simple_history.utils import bulk_create_with_history, bulk_update_with_history

    from csas.accounts.models import Role, User
    from csas.progress.models import (
        ActionMilestone,
        ActionOwner,
        ActionUpdate,
        CouncilAction,
        Evidence,
        FundingLine,
        Indicator,
        Observation,
        ReportingPeriod,
        UpdateState,
    )
    from csas.strategy.models import Action, Department, StrategyVersion

    rng = random.Random(0)  # noqa: S311  (synthetic data, not security)
    timings: list[tuple[str, float]] = []
    version = StrategyVersion.objects.select_related("strategy").get(is_published=True)
    strategy = version.strategy
    goals = list(version.goals.order_by("number"))
    departments = [None, *Department.objects.filter(city_id=strategy.city_id)]
    today = dt.datetime.now(tz=dt.UTC).date()

    with timed("accounts", timings), transaction.atomic():
        tpd = Department.objects.filter(city_id=strategy.city_id).order_by("pk").first()
        author = User.objects.create(
            username="bench-author", role=Role.DEPARTMENT_EDITOR, department=tpd, is_staff=True
        )
        reviewer = User.objects.create(
            username="bench-reviewer", role=Role.STRATEGY_STAFF, is_staff=True
        )
        approver = User.objects.create(username="bench-approver", role=Role.ADMIN, is_staff=True)

    with timed(f"actions (to {options.actions}, with history)", timings), transaction.atomic():
        existing = version.actions.count()
        new_actions = []
        for number in range(options.actions - existing):
            goal = goals[number % len(goals)]
            new_actions.append(
                Action(
                    version=version,
                    goal=goal,
                    code=f"{goal.number}.{100 + number}",
                    slug=f"bench-{goal.number}-{number}",
                    title=_text(rng, 10),
                    description=_text(rng, 60),
                    horizon=rng.choice(["near_term", "long_term", "supporting", ""]),
                    status=rng.choice(["not_started", "in_progress", "ongoing", "complete"]),
                    lead_department=departments[number % len(departments)],
                    order=100 + number,
                )
            )
        bulk_create_with_history(new_actions, Action, batch_size=500)
        actions = list(version.actions.order_by("pk"))

    with timed(f"{options.periods + 1} periods, updates", timings), transaction.atomic():
        current = _quarter_start(today)
        periods = []
        for back in range(options.periods, -1, -1):
            starts = _add_months(current, -3 * back)
            ends = _add_months(starts, 3) - dt.timedelta(days=1)
            periods.append(
                ReportingPeriod(
                    strategy=strategy,
                    label=f"{starts.year} Q{(starts.month - 1) // 3 + 1}",
                    starts_on=starts,
                    ends_on=ends,
                    due_on=ends + dt.timedelta(days=15),
                )
            )
        periods = ReportingPeriod.objects.bulk_create(periods)
        statuses = ["on_track", "on_track", "at_risk", "off_track", "complete", "not_started"]
        updates = [
            ActionUpdate(
                action=action,
                period=period,
                status=rng.choice(statuses),
                narrative=_text(rng, 70),
                state=UpdateState.PUBLISHED,
                author=author,
                reviewed_by=reviewer,
                approved_by=approver,
                submitted_at=_aware(period.ends_on),
                published_at=_aware(period.due_on),
            )
            for period in periods[:-1]
            for action in actions
        ]
        unpublished = [
            UpdateState.DRAFT,
            UpdateState.DEPARTMENT_REVIEW,
            UpdateState.OFFICE_APPROVAL,
        ]
        drafts = [
            ActionUpdate(
                action=action,
                period=periods[-1],
                status="at_risk",
                narrative=f"{DRAFT_MARKER} {_text(rng, 30)}",
                state=unpublished[number % 3],
                author=author,
            )
            for number, action in enumerate(actions[: max(3, len(actions) * 3 // 10)])
        ]
        ActionUpdate.objects.bulk_create(updates, batch_size=2000)
        ActionUpdate.objects.bulk_create(drafts, batch_size=2000)
        ActionOwner.objects.bulk_create(
            [ActionOwner(action=action, user=author) for action in actions[:50]]
        )

    with timed("milestones, funding, council actions, evidence", timings), transaction.atomic():
        first_day = periods[0].starts_on
        milestones, funding, council, evidence = [], [], [], []
        for number, action in enumerate(actions):
            for order in range(4):
                planned_end = first_day + dt.timedelta(days=rng.randrange(0, 365 * 6))
                done = planned_end < today and rng.random() < 0.7
                milestones.append(
                    ActionMilestone(
                        action=action,
                        title=_text(rng, 6),
                        planned_end=planned_end,
                        actual_end=planned_end + dt.timedelta(days=rng.randrange(-30, 60))
                        if done
                        else None,
                        percent_complete=100 if done else rng.randrange(0, 100),
                        order=order,
                    )
                )
            for year in ("2025", "2026"):
                funding.append(
                    FundingLine(
                        action=action,
                        source=rng.choice(["General Fund", "BJA grant", "State grant"]),
                        amount=Decimal(rng.randrange(10_000, 2_000_000)),
                        status=rng.choice(["funded", "partially_funded", "unfunded"]),
                        fiscal_year=year,
                    )
                )
            if number % 3 == 0:
                council.append(
                    CouncilAction(
                        action=action,
                        title=f"Resolution {40000 + number}",
                        url=f"https://example.org/council/{number}",
                        dated=first_day + dt.timedelta(days=number),
                    )
                )
            evidence.append(
                Evidence(action=action, title=_text(rng, 5), url=f"https://example.org/e/{number}")
            )
        ActionMilestone.objects.bulk_create(milestones, batch_size=2000)
        FundingLine.objects.bulk_create(funding, batch_size=2000)
        CouncilAction.objects.bulk_create(council, batch_size=2000)
        Evidence.objects.bulk_create(evidence, batch_size=2000)
        Evidence.objects.bulk_create(
            [
                Evidence(action=draft.action, update=draft, title=f"{DRAFT_MARKER} evidence")
                for draft in drafts
            ],
            batch_size=2000,
        )

    with timed(f"{options.indicators} indicators (with history)", timings), transaction.atomic():
        indicators = [
            Indicator(
                strategy=strategy,
                slug=f"indicator-{number:03d}",
                name=f"Indicator {number:03d}: {_text(rng, 5)}",
                description=_text(rng, 30),
                kind="population" if number % 2 else "performance",
                unit="percent" if number % 2 else "calls",
                direction="increase" if number % 3 else "decrease",
                baseline_value=rng.uniform(10, 90),
                baseline_year=2020,
                target_value=rng.uniform(10, 90),
                target_year=2030,
                source="Synthetic benchmark data",
                is_public=number < options.indicators,
            )
            for number in range(options.indicators + 5)
        ]
        bulk_create_with_history(indicators, Indicator, batch_size=500)
        indicators = list(Indicator.objects.filter(strategy=strategy).order_by("pk"))
        links = Indicator.actions.through
        links.objects.bulk_create(
            [
                links(indicator_id=indicator.pk, action_id=action.pk)
                for indicator in indicators
                for action in rng.sample(actions, rng.randrange(1, 4))
            ],
            batch_size=2000,
        )

    with timed("edits to actions and indicators (with history)", timings), transaction.atomic():
        # The latest history is edits, so the changelog page compares records, not only
        # lists creations.
        retitled = actions[::3]
        for action in retitled:
            action.title = _text(rng, 9)
        bulk_update_with_history(retitled, Action, ["title"], batch_size=500)
        retargeted = indicators[::4]
        for indicator in retargeted:
            indicator.target_value = rng.uniform(10, 90)
        bulk_update_with_history(retargeted, Indicator, ["target_value"], batch_size=500)

    with timed(f"observations ({options.months} months each)", timings), transaction.atomic():
        first_month = _add_months(_quarter_start(today), -options.months)
        observations = []
        for number, indicator in enumerate(indicators):
            survey = indicator.kind == "population"
            for month in range(options.months):
                starts = _add_months(first_month, month)
                ends = _add_months(starts, 1) - dt.timedelta(days=1)
                observations.append(
                    Observation(
                        indicator=indicator,
                        period_start=starts,
                        period_end=ends,
                        value=rng.uniform(0, 100) if survey else float(rng.randrange(0, 900)),
                        n=rng.randrange(200, 900) if survey else None,
                        margin_of_error=rng.uniform(2, 6) if survey else None,
                        wave=f"{starts.year}-{starts.month:02d}" if survey else "",
                        created_by="bench",
                    )
                )
                if number % 10 == 0 and month >= options.months - 12:
                    for district in range(1, 6):
                        suppressed = district == 5
                        observations.append(
                            Observation(
                                indicator=indicator,
                                period_start=starts,
                                period_end=ends,
                                value=None if suppressed else rng.uniform(0, 100),
                                dimension="council_district",
                                group=str(district),
                                suppressed=suppressed,
                                created_by="bench",
                            )
                        )
        Observation.objects.bulk_create(observations, batch_size=5000)

    counts = {
        "actions (published version)": version.actions.count(),
        "published updates": ActionUpdate.objects.filter(state=UpdateState.PUBLISHED).count(),
        "unpublished updates": ActionUpdate.objects.exclude(state=UpdateState.PUBLISHED).count(),
        "action milestones": ActionMilestone.objects.count(),
        "funding lines": FundingLine.objects.count(),
        "public indicators": Indicator.objects.filter(is_public=True).count(),
        "observations": Observation.objects.count(),
        "action history rows": Action.history.filter(version_id=version.pk).count(),
    }
    return Generated(
        counts=counts,
        timings=timings,
        action_slug=actions[len(actions) // 2].slug,
        goal_number=goals[0].number,
        indicator_slug=indicators[0].slug,
        period_pk=periods[-2].pk,
        year=periods[-2].starts_on.year - 1,
    )


# --- the URLs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    role: str = "page"  # "baseline", "reference" or "page"


def targets(generated: Generated) -> tuple[list[Target], list[str]]:
    """What to measure, and a note for each optional page that does not exist yet."""
    from django.urls import Resolver404, resolve

    chosen = [
        Target("baseline: static file", BASELINE, "baseline"),
        Target("reference: 404 page", "/bench-no-such-page/", "reference"),
        Target("home", "/"),
        Target("progress", "/progress/"),
        Target("changes", "/changes/"),
        Target("goal", f"/goals/{generated.goal_number}/"),
        Target("action", f"/actions/{generated.action_slug}/"),
        Target("plan", "/plan/"),
        Target("API actions", "/api/v1/actions"),
        Target("API updates", "/api/v1/updates"),
        Target("API indicators", "/api/v1/indicators"),
        Target("API observations", f"/api/v1/indicators/{generated.indicator_slug}/observations"),
    ]
    optional = [
        Target("indicators", "/indicators/"),
        Target("indicator", f"/indicators/{generated.indicator_slug}/"),
        Target("reports", "/reports/"),
        Target("quarterly report", f"/reports/{generated.period_pk}/"),
        Target("annual report", f"/reports/annual/{generated.year}/"),
        Target("data", "/data/"),
        Target("you said, we did", "/you-said-we-did/"),
        Target("API action", f"/api/v1/actions/{generated.action_slug}"),
    ]
    notes = []
    for target in optional:
        try:
            resolve(target.path)
        except Resolver404:
            notes.append(f"{target.path}: no such URL yet, skipped")
        else:
            chosen.append(target)
    return chosen, notes


@dataclass(frozen=True)
class InProcess:
    status: int
    queries: int  # SQL queries of the second request (-1: not measured)
    seconds: float  # the second request (the first also warms per-process caches)


def count_queries(chosen: list[Target], give_up: float) -> dict[str, InProcess]:
    """Status, SQL queries and time of each URL, requested twice in this process through the
    test client; the second request is the one measured. A URL whose first request takes
    more than ten times `give_up` seconds is requested only once."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    result = {}
    for target in chosen:
        begun = time.perf_counter()
        status = client.get(target.path).status_code
        seconds = time.perf_counter() - begun
        count = -1
        if seconds <= 10 * give_up:
            with CaptureQueriesContext(connection) as queries:
                begun = time.perf_counter()
                status = client.get(target.path).status_code
                seconds = time.perf_counter() - begun
            count = len(queries)
        result[target.path] = InProcess(status, count, seconds)
    return result


# --- the server and the clients ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Server:
    """gunicorn with the arguments `csas serve` gives it; its output goes to a file."""

    def __init__(self, port: int, workers: int, env: dict[str, str], log: Path) -> None:
        self.port, self.workers, self.env, self.log = port, workers, env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "csas.config.wsgi:application",
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.workers),
            "--access-logfile",
            "-",
            "--forwarded-allow-ips",
            "127.0.0.1",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603  (fixed argument list, our own server)
                command,
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl+C reaches only us; we stop it in order
            )

    def wait_ready(self, timeout: float = 60.0) -> float:
        begun = time.perf_counter()
        while time.perf_counter() - begun < timeout:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}:\n{self.tail()}"
                )
            with contextlib.suppress(OSError, http.client.HTTPException):
                if fetch(self.port, BASELINE)[0] == 200:
                    return time.perf_counter() - begun
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{self.tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def fetch(port: int, path: str) -> tuple[int, bytes, float]:
    """(status, body, seconds) of one GET on a new connection, as a browser's first visit."""
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        begun = time.perf_counter()
        connection.request("GET", path, headers={"Accept": "text/html,application/json"})
        response = connection.getresponse()
        body = response.read()
        return response.status, body, time.perf_counter() - begun
    finally:
        connection.close()


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(fraction * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def run_rounds(
    port: int, chosen: list[Target], rounds: int, clients: int, seed: int
) -> tuple[dict[str, list[float]], dict[str, set[int]], list[bytes]]:
    """Each client requests every URL once per round, in a shuffled order."""
    latencies: dict[str, list[float]] = {t.path: [] for t in chosen}
    statuses: dict[str, set[int]] = {t.path: set() for t in chosen}
    bodies: list[bytes] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def client(number: int) -> None:
        rng = random.Random(seed * 1000 + number)  # noqa: S311  (request order only)
        try:
            for _ in range(rounds):
                order = list(chosen)
                rng.shuffle(order)
                for target in order:
                    status, body, seconds = fetch(port, target.path)
                    with lock:
                        latencies[target.path].append(seconds * 1000)
                        statuses[target.path].add(status)
                        if number == 0 and len(bodies) < 4 * len(chosen):
                            bodies.append(body)
        except BaseException as exc:  # a failed client must fail the run, not vanish
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return latencies, statuses, bodies


# --- main ----------------------------------------------------------------------------------------


def _database_version(connection: Any) -> str:
    if connection.vendor == "sqlite":
        import sqlite3

        return sqlite3.sqlite_version
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return str(cursor.fetchone()[0])


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="measured requests per URL")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured requests per URL")
    parser.add_argument("--clients", type=int, default=1, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (csas serve: 3)")
    parser.add_argument("--actions", type=int, default=500)
    parser.add_argument("--periods", type=int, default=20, help="quarters of published updates")
    parser.add_argument("--indicators", type=int, default=200)
    parser.add_argument("--months", type=int, default=120, help="observations per indicator")
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=POSTGRES_SERVER,
        metavar="SERVER_URL",
        help=f"use a fresh PostgreSQL database {DATABASE_NAME} on this server, not SQLite",
    )
    parser.add_argument(
        "--give-up",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="a URL slower than this in this process (warm) is a FAIL and is not load-tested",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data folder and database")
    return parser.parse_args()


def database_admin(server_url: str, sql: str) -> None:
    """CREATE/DROP DATABASE on the server's maintenance database (outside a transaction)."""
    import psycopg

    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def print_table(
    chosen: list[Target],
    latencies: dict[str, list[float]],
    statuses: dict[str, set[int]],
    queries: dict[str, InProcess],
    sizes: dict[str, int],
) -> bool:
    base = sorted(latencies[BASELINE])
    base_p50, base_p95 = percentile(base, 0.50), percentile(base, 0.95)
    header = (
        f"{'URL':58} {'status':>6} {'queries':>7} {'KB':>6} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'max ms':>7} {'p50/base':>8} {'p95/base':>8}  p95 < 200 ms"
    )
    print(header)
    print("-" * len(header))
    all_pass = True
    for target in chosen:
        values = sorted(latencies[target.path])
        p50, p95, p99 = (percentile(values, f) for f in (0.50, 0.95, 0.99))
        status = ",".join(str(s) for s in sorted(statuses[target.path]))
        expected = 404 if target.role == "reference" else 200
        ok = p95 < TARGET_P95_MS and statuses[target.path] == {expected}
        if target.role == "page":
            all_pass &= ok
        verdict = "PASS" if ok else "FAIL"
        if target.role != "page":
            verdict = f"({target.role})"
        label = f"{target.name}: {target.path}"
        print(
            f"{label[:58]:58} {status:>6} {queries[target.path].queries:7d} "
            f"{sizes[target.path] / 1024:6.1f} {p50:7.1f} {p95:7.1f} {p99:7.1f} "
            f"{values[-1]:7.1f} {p50 / base_p50:8.1f} {p95 / base_p95:8.1f}  {verdict}"
        )
    return all_pass


def main() -> int:
    options = parse_options()
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # show progress as it goes, also in a file
    data_dir = Path(tempfile.mkdtemp(prefix="csas-bench-progress-"))
    env = {
        "DJANGO_SETTINGS_MODULE": "csas.config.settings",
        "CSAS_DATA_DIR": str(data_dir),
        "CSAS_SECRET_KEY": secrets.token_urlsafe(50),
        "CSAS_ALLOWED_HOSTS": HOST,
        "CSAS_DEBUG": "false",
        "CSAS_LOG_LEVEL": "WARNING",
        # The public API allows 120 anonymous requests a minute per client; the benchmark
        # measures the endpoints, not the throttle's 429s.
        "CSAS_API_RATE_PER_MINUTE": str(10**9),
    }
    if options.postgres:
        env["DATABASE_URL"] = f"{options.postgres}/{DATABASE_NAME}"
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.update(env)
    server = Server(free_port(), options.workers, dict(os.environ), data_dir / "gunicorn.log")
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    created = False
    close_connections: Callable[[], None] = lambda: None  # noqa: E731  (set after setup)
    try:
        if options.postgres:
            database_admin(
                options.postgres, f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)"
            )
            database_admin(options.postgres, f"CREATE DATABASE {DATABASE_NAME}")
            created = True
        import django

        django.setup()
        # The reference URL is a 404 on purpose; do not log it at every in-process request.
        logging.getLogger("django.request").setLevel(logging.ERROR)
        from django.core.management import call_command
        from django.db import connection, connections

        close_connections = connections.close_all
        print(
            f"{os.cpu_count()} CPUs ({platform.machine()}), load average "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; Python "
            f"{platform.python_version()}, Django {django.get_version()}, gunicorn "
            f"{importlib.metadata.version('gunicorn')}, database {connection.vendor} "
            f"{_database_version(connection)}"
        )
        begun = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_strategy", verbosity=0)
        print(f"migrations and the Tacoma strategy: {time.perf_counter() - begun:.1f} s")
        begun = time.perf_counter()
        generated = generate(options)
        print(f"generated in {time.perf_counter() - begun:.1f} s:")
        for label, seconds in generated.timings:
            print(f"  {label:50} {seconds:6.1f} s")
        print("  " + ", ".join(f"{v:,} {k}" for k, v in generated.counts.items()))

        chosen, notes = targets(generated)
        queries = count_queries(chosen, options.give_up)
        close_connections()
        too_slow = [t for t in chosen if queries[t.path].seconds > options.give_up]
        for target in too_slow:
            measured = queries[target.path]
            notes.append(
                f"{target.path}: FAIL, not load-tested: one request took "
                f"{measured.seconds:.1f} s in this process (status {measured.status}, "
                f"{measured.queries} queries; over --give-up {options.give_up:g} s)"
            )
        chosen = [t for t in chosen if t not in too_slow]

        server.start()
        print(
            f"\ngunicorn, {options.workers} sync workers (as `csas serve`), on "
            f"http://{HOST}:{server.port}/, ready in {server.wait_ready():.1f} s; "
            f"{options.clients} client(s), {options.warmup} warm-up + {options.requests} "
            f"measured requests per URL, URLs shuffled in each round"
        )
        for note in notes:
            print(f"  {note}")
        _, _, warm_bodies = run_rounds(server.port, chosen, options.warmup, 1, seed=1)
        sizes = {t.path: len(fetch(server.port, t.path)[1]) for t in chosen}
        begun = time.perf_counter()
        latencies, statuses, bodies = run_rounds(
            server.port, chosen, options.requests, options.clients, seed=0
        )
        seconds = time.perf_counter() - begun
        total = sum(len(v) for v in latencies.values())
        print(
            f"{total:,} requests in {seconds:.0f} s; load average now "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}\n"
        )
        all_pass = print_table(chosen, latencies, statuses, queries, sizes) and not too_slow
        leaked = sum(DRAFT_MARKER.encode() in body for body in warm_bodies + bodies)
        print(
            f"\nunpublished updates served: {leaked} responses carried the draft marker "
            f"(expected 0); overall: {'PASS' if all_pass and not leaked else 'FAIL'} "
            f"(every page p95 < {TARGET_P95_MS:.0f} ms and 200)"
        )
        return 0 if all_pass and not leaked else 1
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 1
    except Exception:
        print(f"\nserver log tail:\n{server.tail()}", file=sys.stderr)
        raise
    finally:
        server.stop()
        with contextlib.suppress(Exception):
            close_connections()
        if options.keep:
            print(f"kept data folder {data_dir}" + (f" and {DATABASE_NAME}" if created else ""))
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
            if created and options.postgres:
                database_admin(
                    options.postgres, f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)"
                )


if __name__ == "__main__":
    sys.exit(main())

"""Survey submit under load: csas's public survey path on PostgreSQL, against a bare insert view.

Usage:
    .venv/bin/python benchmarks/bench_survey_submit.py [--duration 20] [--clients 50]
        [--threads 1] [--kill-test] [--profile] [--keep-db]

Sets up its own PostgreSQL database (``csas_bench`` on 127.0.0.1:5432, user postgres,
dropped at the end) with csas's migrations, the bundled Tacoma strategy and the small test
survey ``tests/engagement/fixtures_small_survey.yaml`` (3 pages, 10 questions, opened), then
serves csas with gunicorn, 2 workers, on a free loopback port, using
``benchmarks.bench_settings`` (csas's settings plus one bare view, see bench_urls.py).

A load generator in this process (asyncio, a small HTTP/1.1 client over asyncio streams)
runs ``--clients`` concurrent clients for ``--warmup`` + ``--duration`` seconds in each of
four phases against the same server (figures count the measured seconds only):

* bare: each client POSTs to the bare view (one raw-SQL INSERT, 200) in a loop: the baseline;
* submit: each client POSTs the final "Submit my answers" form of an in-progress response
  whose three pages are filled (one response filled in through the pages, copied in bulk
  with the ORM beforehand), one after another: the survey-submit path, in isolation;
* flow: each client answers complete surveys in a loop as a browser would (GET the start
  page, POST start, GET and POST each page, GET review, POST submit, GET thanks). One
  respondent in ten re-POSTs the submit after it was acknowledged (a retry) and one in ten
  sends the submit twice at once (a double click); both must get the thanks redirect;
* bare again, so that the baseline brackets the csas phases; the ratios use both bare runs.

It prints requests/s and p50/p90/p99 latency of each phase and step, the ratios to the bare
baseline, the CPU each side used (and gunicorn + PostgreSQL CPU per request, which does not
depend on how much of the machine other processes take), and the correctness checks: every
acknowledged submit (302 to the thanks page) is a submitted response in the database, with
one feedback item, and no submitted response exists that no client started; every
acknowledged bare insert is exactly one row.

``--kill-test`` adds a phase where half the clients answer the survey and half submit
prepared responses while, every duration/5 seconds, and each time at a moment when
pg_stat_activity shows a worker inside response_submit's transaction: one worker gets
SIGKILL (twice), the master gets SIGTERM (gunicorn's graceful stop) and a new server is
started, and master and workers get SIGKILL together and a new server is started. Clients
retry a request that got no reply (same method, body and cookies) until the server answers.
For each event it checks that every submit acknowledged before it is in the database, that
the submits in flight were acknowledged in the end and stored once, and whether the
transaction caught open was rolled back (the retry then submits) or had committed (the
retry then finds it submitted and answers with the thanks page).

``--profile`` adds, after the load, an in-process look at where a submit's time goes: the
SQL queries of each step of one respondent, and cProfile over a few hundred submits.

Only loopback traffic; every loop ends by itself; gunicorn is stopped and the database
dropped on the way out, also after Ctrl+C or an error. The load generator shares the
machine's CPUs with gunicorn and PostgreSQL; the CPU line of each phase shows how much each
side used. Record the figures in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import functools
import importlib.metadata
import io
import os
import platform
import pstats
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SURVEY_FILE = REPO_ROOT / "tests" / "engagement" / "fixtures_small_survey.yaml"
SURVEY_SLUG = "small-survey"
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432"
DATABASE_NAME = "csas_bench"
HOST = "127.0.0.1"

REQUEST_TIMEOUT = 30.0  # seconds for one attempt; gunicorn's worker timeout is also 30 s
RETRY_FOR = 60.0  # seconds a client keeps retrying a request that got no reply

# The answers of tests/engagement/test_answering.py, page by page, as a browser posts them.
PAGES: list[list[tuple[str, str]]] = [
    [("feel_day", "unsafe"), ("experienced", "theft"), ("reported", "no")],
    [
        ("goal_rank__rank__goal_3", "1"),
        ("goal_rank__rank__goal_1", "2"),
        ("top_actions", "action_1_2"),
        ("top_actions", "action_1_3"),
        ("score", "4"),
        ("comments", "Call me at 253-555-0142 about the broken lights."),
        ("place", "-122.44,47.25"),
    ],
    [("age", "under_35"), ("home", "central")],
]

CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
RESPONSE_PATH = re.compile(r"/surveys/[^/]+/r/([0-9a-f-]{36})/")
THANKS_PATH = f"/surveys/{SURVEY_SLUG}/thanks/"


# --- a small HTTP/1.1 client ------------------------------------------------------------------


class NoReply(Exception):
    """A request got no complete reply (connection refused, reset or closed, or timed out)."""


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next((value for key, value in self.headers if key == name), "")


@dataclass
class Sample:
    step: str
    target: str
    start: float
    end: float
    status: int
    retries: int


class Connection:
    """One client's connection, kept alive when the server allows it, reopened when not."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def exchange(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> Reply:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None  # noqa: S101  (set together with writer)
        lines = [f"{method} {target} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await self.writer.drain()
        reply = await _read_reply(self.reader)
        if reply.header("connection").lower() == "close":
            await self.close()
        return reply


async def _read_reply(reader: asyncio.StreamReader) -> Reply:
    status_line = await reader.readline()
    if not status_line:
        raise NoReply("connection closed before a reply")
    status = int(status_line.split(None, 2)[1])
    headers: list[tuple[str, str]] = []
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name.strip().lower(), value.strip()))
    values = dict(headers)
    if values.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            chunks.append(chunk[:-2])
        body = b"".join(chunks)
    elif "content-length" in values:
        body = await reader.readexactly(int(values["content-length"]))
    else:
        body = await reader.read()
    return Reply(status, headers, body)


class Browser:
    """One client: a connection, cookies, and every request it makes timed into `samples`."""

    def __init__(self, port: int, samples: list[Sample], stats: Counter[str]) -> None:
        self.port = port
        self.connection = Connection(port)
        self.cookies: dict[str, str] = {}
        self.samples = samples
        self.stats = stats

    def forget(self) -> None:
        self.cookies.clear()

    async def request(
        self,
        step: str,
        method: str,
        target: str,
        fields: list[tuple[str, str]] | None = None,
        connection: Connection | None = None,
    ) -> Reply:
        """Send one request, retrying it unchanged while no reply comes (up to RETRY_FOR)."""
        connection = connection or self.connection
        headers = {"User-Agent": "csas-bench", "Accept": "text/html"}
        body = b""
        if method == "POST":
            body = urllib.parse.urlencode(fields or []).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://{HOST}:{self.port}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        start = time.perf_counter()
        retries = 0
        while True:
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    reply = await connection.exchange(method, target, headers, body)
                break
            except (OSError, EOFError, TimeoutError, NoReply, ValueError, IndexError):
                await connection.close()
                if time.perf_counter() - start > RETRY_FOR:
                    self.stats["requests given up"] += 1
                    raise NoReply(f"{method} {target}: no reply for {RETRY_FOR:.0f} s") from None
                retries += 1
                self.stats[f"{step} retries"] += 1
                await asyncio.sleep(min(0.02 * 2**retries, 0.5))
        self.samples.append(Sample(step, target, start, time.perf_counter(), reply.status, retries))
        for name, value in reply.headers:
            if name == "set-cookie":
                cookie_name, _, rest = value.partition("=")
                self.cookies[cookie_name] = rest.split(";", 1)[0]
        return reply


# --- statistics --------------------------------------------------------------------------------


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(fraction * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class StepFigures:
    step: str
    count: int
    per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    bad_status: int
    retried: int


Run = tuple[list[Sample], tuple[float, float]]  # a phase's samples and measured window


def figures(runs: list[Run], steps: set[str], name: str, ok: set[int]) -> StepFigures:
    """Latency of requests started in the window; rate of those completed in it (pooled)."""
    chosen = [s for samples, (begin, end) in runs for s in samples if begin <= s.start < end]
    chosen = [s for s in chosen if s.step in steps]
    completed = sum(
        1
        for samples, (begin, end) in runs
        for s in samples
        if s.step in steps and begin <= s.end <= end
    )
    seconds = sum(end - begin for _, (begin, end) in runs)
    latencies = sorted((s.end - s.start) * 1000 for s in chosen)
    return StepFigures(
        step=name,
        count=len(chosen),
        per_second=completed / seconds,
        p50_ms=percentile(latencies, 0.50),
        p90_ms=percentile(latencies, 0.90),
        p99_ms=percentile(latencies, 0.99),
        max_ms=latencies[-1] if latencies else float("nan"),
        bad_status=sum(1 for s in chosen if s.status not in ok),
        retried=sum(1 for s in chosen if s.retries),
    )


def print_figures(rows: list[StepFigures]) -> None:
    print(
        f"  {'':30} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'bad':>5} {'retried':>7}"
    )
    for row in rows:
        print(
            f"  {row.step:30} {row.count:9d} {row.per_second:8.1f} {row.p50_ms:8.1f} "
            f"{row.p90_ms:8.1f} {row.p99_ms:8.1f} {row.max_ms:8.1f} {row.bad_status:5d} "
            f"{row.retried:7d}"
        )


# --- CPU accounting from /proc ------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def _processes() -> Iterator[tuple[int, int, str]]:
    """(pid, parent pid, command name) of every process we can see."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        parent = int(text.rsplit(")", 1)[1].split()[1])
        yield int(entry.name), parent, name


def _machine_busy() -> float:
    """CPU-seconds the whole machine has spent not idle."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLOCK_TICKS


@dataclass
class CpuMeter:
    """CPU used by gunicorn (master and workers), PostgreSQL and this process over a phase."""

    server_pids: Callable[[], list[int]]
    start: dict[str, Any] = field(default_factory=dict)

    def _snapshot(self) -> dict[str, Any]:
        processes = list(_processes())
        return {
            "server": {pid: _proc_cpu(pid) for pid in self.server_pids()},
            "postgres": {pid: _proc_cpu(pid) for pid, _, name in processes if name == "postgres"},
            "self": time.process_time(),
            "machine": _machine_busy(),
            "wall": time.perf_counter(),
        }

    def begin(self) -> None:
        self.start = self._snapshot()

    def end(self, requests: int) -> float:
        """Print the cores each side used; return gunicorn + PostgreSQL CPU ms per request."""
        now = self._snapshot()
        wall = now["wall"] - self.start["wall"]

        def used(group: str) -> float:
            before = self.start[group]
            return float(sum(cpu - before.get(pid, 0.0) for pid, cpu in now[group].items()))

        server, postgres = used("server"), used("postgres")
        per_request = (server + postgres) * 1000 / max(requests, 1)
        print(
            f"  CPU cores used (of {os.cpu_count()}): gunicorn {server / wall:.2f}, "
            f"PostgreSQL {postgres / wall:.2f}, "
            f"load generator {(now['self'] - self.start['self']) / wall:.2f}, "
            f"whole machine {(now['machine'] - self.start['machine']) / wall:.2f}; "
            f"gunicorn + PostgreSQL CPU per request: {per_request:.2f} ms"
        )
        return per_request


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Server:
    """gunicorn serving csas with the benchmark settings; its log goes to a file."""

    def __init__(self, port: int, env: dict[str, str], threads: int, log: Path) -> None:
        self.port = port
        self.env = env
        self.threads = threads
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def description(self) -> str:
        if self.threads > 1:
            return f"gunicorn, 2 gthread workers x {self.threads} threads"
        return "gunicorn, 2 sync workers"

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "csas.config.wsgi:application",
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread" if self.threads > 1 else "sync",
            "--threads",
            str(self.threads),
            "--timeout",
            "30",
            "--graceful-timeout",
            "10",
            "--log-level",
            "warning",
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

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        return [pid for pid, parent, _ in _processes() if parent == self.process.pid]

    def all_pids(self) -> list[int]:
        if self.process is None:
            return []
        return [self.process.pid, *self.worker_pids()]

    async def wait_ready(self, timeout: float = 60.0) -> float:
        """Seconds until the survey page answers 200 on every worker we can reach."""
        start = time.perf_counter()
        while time.perf_counter() - start < timeout:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}:\n{self.tail()}"
                )
            connection = Connection(self.port)
            try:
                async with asyncio.timeout(5):
                    reply = await connection.exchange(
                        "GET", f"/surveys/{SURVEY_SLUG}/", {"Connection": "close"}, b""
                    )
                if reply.status == 200 and len(self.worker_pids()) >= 2:
                    return time.perf_counter() - start
            except (OSError, EOFError, TimeoutError, NoReply, ValueError):
                pass
            finally:
                await connection.close()
            await asyncio.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{self.tail()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# --- the database -------------------------------------------------------------------------------


def database_admin(sql: str) -> None:
    """Run CREATE/DROP DATABASE on the maintenance database (outside a transaction)."""
    import psycopg

    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def database_setup() -> dict[str, str]:
    """Fresh csas_bench with csas's schema, the strategy and the opened small survey."""
    from django.core.management import call_command
    from django.db import connection

    from benchmarks.bench_urls import BARE_TABLE_SQL

    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_strategy", verbosity=0)
    call_command("load_survey", str(SURVEY_FILE), open=True, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(BARE_TABLE_SQL)
        cursor.execute("SHOW server_version")
        (server_version,) = cursor.fetchone()
    return {"postgres": server_version}


def prepare_responses(template_token: str, count: int) -> list[str]:
    """`count` in-progress responses with the same answers as the template, ready to submit."""
    from django.db import connection, transaction

    from csas.engagement.models import Answer, Response

    template = Response.objects.get(public_id=template_token)
    answers = list(
        template.answers.values_list("question_id", "value", "redacted_text", "review_reasons")
    )
    # The submit snapshot too (kept up to date as pages are saved), as the template has it.
    responses = [
        Response(
            survey_id=template.survey_id,
            language=template.language,
            respondent_key=secrets.token_hex(32),
            ready=template.ready,
            opted_in=template.opted_in,
            demographics=template.demographics,
            neighbourhood_id=template.neighbourhood_id,
            council_district_id=template.council_district_id,
        )
        for _ in range(count)
    ]
    with transaction.atomic():
        Response.objects.bulk_create(responses, batch_size=2000)
        Answer.objects.bulk_create(
            [
                Answer(
                    response_id=response.pk,
                    question_id=question_id,
                    value=value,
                    redacted_text=redacted_text,
                    review_reasons=review_reasons,
                )
                for response in responses
                for question_id, value, redacted_text, review_reasons in answers
            ],
            batch_size=5000,
        )
    # Statistics and the visibility map up to date, as a database in service keeps them, so
    # that autovacuum does not catch up on these rows during the measured seconds.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE engagement_response, engagement_answer")
    return [str(response.public_id) for response in responses]


@dataclass
class Ledger:
    """What the clients know: every response token they hold and every acknowledgement."""

    issued: set[str] = field(default_factory=set)
    acked: dict[str, float] = field(default_factory=dict)
    bare_acked: set[str] = field(default_factory=set)
    submitting: dict[str, Connection] = field(default_factory=dict)  # submits in flight
    template: str = ""  # a filled-in response, not submitted, to copy
    kill_samples: list[Sample] = field(default_factory=list)  # the kill test's requests
    double_submits: int = 0
    double_submit_bad: int = 0
    retried_submits: int = 0
    retried_submit_bad: int = 0
    errors: Counter[str] = field(default_factory=Counter)


def check_responses(ledger: Ledger, tokens: set[str] | None = None) -> dict[str, int]:
    """Lost and duplicated responses, from the database, for acknowledged `tokens`."""
    from django.db.models import Count

    from csas.engagement.models import FeedbackItem, Response, ResponseStatus

    wanted = set(ledger.acked) if tokens is None else tokens
    submitted = {
        str(public_id)
        for public_id in Response.objects.filter(status=ResponseStatus.SUBMITTED).values_list(
            "public_id", flat=True
        )
    }
    in_progress = {
        str(public_id)
        for public_id in Response.objects.filter(status=ResponseStatus.IN_PROGRESS).values_list(
            "public_id", flat=True
        )
    }
    items_per_response = Counter(
        dict(
            FeedbackItem.objects.filter(answer__isnull=False)
            .values_list("answer__response__public_id")
            .annotate(n=Count("id"))
            .values_list("answer__response__public_id", "n")
        )
    )
    return {
        "acknowledged": len(wanted),
        "lost (acknowledged, not submitted)": len(wanted - submitted),
        "duplicated (submitted, no client started it)": len(submitted - ledger.issued),
        "submitted twice (>1 feedback item per response)": sum(
            1 for n in items_per_response.values() if n > 1
        ),
        "submitted without an acknowledgement": len(
            (submitted & ledger.issued) - set(ledger.acked)
        ),
        "in progress, no client holds it (retried start)": len(in_progress - ledger.issued),
    }


def check_kill_events(events: list[Event], ledger: Ledger) -> int:
    """Print what each kill did to acknowledged and in-flight submits; count the lost ones."""
    from django.db import connection

    from csas.engagement.models import Response

    failures = 0
    for number, event in enumerate(events, start=1):
        acked_before = {token for token, at in ledger.acked.items() if at < event.at}
        lost = check_responses(ledger, acked_before)["lost (acknowledged, not submitted)"]
        failures += lost
        in_flight: dict[str, Sample] = {}
        for sample in ledger.kill_samples:
            match = RESPONSE_PATH.search(sample.target)
            if (
                match
                and sample.step.endswith("submit POST")
                and sample.start <= event.at < sample.end
            ):
                in_flight[match.group(1)] = sample
        rows = Response.objects.filter(public_id__in=in_flight).values_list("public_id", "status")
        submitted = sum(1 for _, status in rows if status == "submitted")
        acked = sum(1 for token in in_flight if token in ledger.acked)
        retried = sum(1 for sample in in_flight.values() if sample.retries)
        caught = "no worker was caught inside a submit transaction"
        if event.xid is not None:
            with connection.cursor() as cursor:
                cursor.execute(XACT_STATUS_SQL, [int(event.xid)])
                (xact_status,) = cursor.fetchone()
            caught = (
                f"the submit transaction caught open was {xact_status}; "
                "its response was not identified"
            )
        if event.xid is not None and event.response_id is not None:
            response = Response.objects.get(pk=event.response_id)
            token = str(response.public_id)
            served = in_flight.get(token)
            committed = (
                "never submitted"
                if response.submitted_at is None
                else "its submitted_at is "
                f"{(response.submitted_at.timestamp() - event.wall_clock) * 1000:+.0f} ms "
                "from the signal"
            )
            request = (
                f"request took {served.end - served.start:.2f} s with {served.retries} retries, "
                if served is not None
                else ""
            )
            caught = (
                f"the submit transaction caught open was {xact_status}; the client's "
                f"{request or 'submit '}"
                f"{'acknowledged' if token in ledger.acked else 'NOT acknowledged'}, "
                f"{response.status} in the database ({committed})"
            )
        print(
            f"  kill test {number} ({event.action}): {len(acked_before)} acknowledged before, "
            f"{lost} lost; {len(in_flight)} submits in flight, {retried} of them retried, "
            f"{acked} acknowledged in the end, {submitted} submitted; {caught}"
        )
    return failures


def check_bare(ledger: Ledger) -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT token, count(*) FROM bench_bare_insert GROUP BY token")
        rows = dict(cursor.fetchall())
    return {
        "acknowledged": len(ledger.bare_acked),
        "lost (acknowledged, no row)": len(ledger.bare_acked - set(rows)),
        "duplicated (token inserted twice)": sum(1 for n in rows.values() if n > 1),
    }


# --- the clients ---------------------------------------------------------------------------------


class Stop(Exception):
    """The phase is over, or a reply was wrong; drop the respondent in hand."""


class Deadline:
    """When clients stop starting new requests (the kill test moves it as events happen)."""

    def __init__(self, at: float) -> None:
        self.at = at

    def passed(self) -> bool:
        return time.perf_counter() >= self.at


async def bare_client(
    number: int, browser: Browser, ledger: Ledger, deadline: Deadline, prefix: str, **_: Any
) -> None:
    sequence = 0
    while not deadline.passed():
        token = f"{prefix}-{number}-{sequence}"
        sequence += 1
        reply = await browser.request(
            "bare POST", "POST", "/bench/bare-insert/", [("token", token)]
        )
        if reply.status == 200:
            ledger.bare_acked.add(token)
        else:
            ledger.errors[f"bare POST {reply.status}"] += 1


async def csrf_token(browser: Browser, ledger: Ledger | None = None) -> str:
    """The start page's CSRF token (and cookie); Stop, counted as an error, if it fails."""
    reply = await browser.request("start GET", "GET", f"/surveys/{SURVEY_SLUG}/")
    match = CSRF_INPUT.search(reply.body)
    if reply.status != 200 or match is None:
        if ledger is None:
            raise RuntimeError(f"start page: status {reply.status}, no CSRF token")
        ledger.errors[f"start GET {reply.status}"] += 1
        raise Stop
    return match.group(1).decode()


async def submit_client(
    number: int,
    browser: Browser,
    ledger: Ledger,
    deadline: Deadline,
    pool: list[str],
    pool_empty: list[float],
    **_: Any,
) -> None:
    """POST the submit form of prepared responses, one after another."""
    try:
        csrf = await csrf_token(browser, ledger)
    except (Stop, NoReply):
        return
    while not deadline.passed():
        if not pool:
            if not pool_empty:
                pool_empty.append(time.perf_counter())
            return
        token = pool.pop()
        ledger.submitting[token] = browser.connection
        try:
            reply = await browser.request(
                "submit POST",
                "POST",
                f"/surveys/{SURVEY_SLUG}/r/{token}/review/",
                [("csrfmiddlewaretoken", csrf)],
            )
        finally:
            del ledger.submitting[token]
        if reply.status == 302 and reply.header("location").endswith(THANKS_PATH):
            ledger.acked[token] = time.perf_counter()
        else:
            ledger.errors[f"submit POST {reply.status}"] += 1


def _expect(reply: Reply, step: str, status: int, ledger: Ledger) -> None:
    if reply.status != status:
        ledger.errors[f"{step} {reply.status}"] += 1
        raise Stop


async def respondent(browser: Browser, ledger: Ledger, deadline: Deadline, index: int) -> None:
    """One person answering the survey from the start page to the thanks page."""

    def check_time() -> None:
        if deadline.passed():
            raise Stop

    browser.forget()  # a new person: no session, no CSRF cookie
    csrf = await csrf_token(browser, ledger)
    check_time()
    reply = await browser.request(
        "start POST",
        "POST",
        f"/surveys/{SURVEY_SLUG}/",
        [("csrfmiddlewaretoken", csrf), ("code", ""), ("website", "")],
    )
    _expect(reply, "start POST", 302, ledger)
    location = reply.header("location")
    match = RESPONSE_PATH.search(location)
    if match is None:
        ledger.errors["start POST: no response token"] += 1
        raise Stop
    token = match.group(1)
    ledger.issued.add(token)
    for answers in PAGES:
        check_time()
        _expect(await browser.request("page GET", "GET", location), "page GET", 200, ledger)
        check_time()
        reply = await browser.request(
            "page POST", "POST", location, [("csrfmiddlewaretoken", csrf), *answers]
        )
        _expect(reply, "page POST", 302, ledger)
        location = reply.header("location")
    if not location.endswith("/review/"):
        ledger.errors["last page: not sent to review"] += 1
        raise Stop
    check_time()
    _expect(await browser.request("review GET", "GET", location), "review GET", 200, ledger)
    check_time()
    form = [("csrfmiddlewaretoken", csrf)]
    ledger.submitting[token] = browser.connection
    try:
        await submit(browser, ledger, token, location, form, index)
    finally:
        del ledger.submitting[token]
    reply = await browser.request("thanks GET", "GET", THANKS_PATH)
    _expect(reply, "thanks GET", 200, ledger)


async def submit(
    browser: Browser,
    ledger: Ledger,
    token: str,
    location: str,
    form: list[tuple[str, str]],
    index: int,
) -> None:
    """The submit POST of a respondent; one in ten doubled, one in ten retried."""
    if index % 10 == 4:
        # A double click: two submits of the same response at the same moment.
        second = Connection(browser.port)
        try:
            replies = await asyncio.gather(
                browser.request("double submit POST", "POST", location, form),
                browser.request("double submit POST", "POST", location, form, connection=second),
            )
        finally:
            await second.close()
        ledger.double_submits += 1
        thanked = [r.status == 302 and r.header("location").endswith(THANKS_PATH) for r in replies]
        if not all(thanked):
            ledger.double_submit_bad += 1
        if not any(thanked):
            raise Stop
        ledger.acked[token] = time.perf_counter()
    else:
        reply = await browser.request("submit POST", "POST", location, form)
        if not (reply.status == 302 and reply.header("location").endswith(THANKS_PATH)):
            ledger.errors[f"submit POST {reply.status}"] += 1
            raise Stop
        ledger.acked[token] = time.perf_counter()
        if index % 10 == 9:
            # The same POST again, as a browser retrying after a lost reply would send it.
            again = await browser.request("retried submit POST", "POST", location, form)
            ledger.retried_submits += 1
            if not (again.status == 302 and again.header("location").endswith(THANKS_PATH)):
                ledger.retried_submit_bad += 1


async def flow_client(
    number: int, browser: Browser, ledger: Ledger, deadline: Deadline, **_: Any
) -> None:
    index = number  # spreads the one-in-ten double and retried submits over the clients
    while not deadline.passed():
        try:
            await respondent(browser, ledger, deadline, index)
        except Stop:
            pass
        except NoReply as exc:
            ledger.errors[f"gave up: {exc}"] += 1
        index += 1


async def run_clients(
    client: Callable[..., Awaitable[None]],
    clients: int,
    port: int,
    seconds: float,
    ledger: Ledger,
    samples: list[Sample],
    stats: Counter[str],
    deadline: Deadline | None = None,
    **extra: Any,
) -> tuple[float, float]:
    """Run `clients` copies of `client` for `seconds` (or until `deadline`); (start, end)."""
    start = time.perf_counter()
    deadline = deadline or Deadline(start + seconds)
    browsers = [Browser(port, samples, stats) for _ in range(clients)]
    try:
        await asyncio.gather(
            *(
                client(number, browser, ledger, deadline, **extra)
                for number, browser in enumerate(browsers)
            )
        )
    finally:
        for browser in browsers:
            await browser.connection.close()
    return start, deadline.at


# --- phases ---------------------------------------------------------------------------------------

FLOW_STEPS = [
    "start GET",
    "start POST",
    "page GET",
    "page POST",
    "review GET",
    "submit POST",
    "double submit POST",
    "retried submit POST",
    "thanks GET",
]
OK = {200, 302}


@dataclass
class Options:
    duration: float
    warmup: float
    clients: int
    threads: int
    submit_pool: int
    kill_test: bool
    profile: bool
    keep_db: bool


@dataclass
class Measured:
    """The load phases' figures, for the summary."""

    bare: StepFigures
    bare_runs: list[StepFigures]
    submit: StepFigures
    flow: StepFigures
    flow_submit: StepFigures
    respondents_per_second: float
    cpu_ms: dict[str, float]


async def fill_template(port: int) -> str:
    """One response filled in through the three pages, not submitted: the one to copy."""
    browser = Browser(port, [], Counter())
    csrf = await csrf_token(browser)
    reply = await browser.request(
        "start POST", "POST", f"/surveys/{SURVEY_SLUG}/", [("csrfmiddlewaretoken", csrf)]
    )
    location = reply.header("location")
    for answers in PAGES:
        reply = await browser.request(
            "page POST", "POST", location, [("csrfmiddlewaretoken", csrf), *answers]
        )
        location = reply.header("location")
    await browser.connection.close()
    match = RESPONSE_PATH.search(location)
    if reply.status != 302 or match is None or not location.endswith("/review/"):
        raise RuntimeError(f"could not fill in the template response: {reply.status} {location}")
    return match.group(1)


async def load_phases(server: Server, options: Options, ledger: Ledger) -> Measured:
    """bare, submit, flow, bare again: each `options.clients` clients for the same time."""
    seconds = options.warmup + options.duration
    meter = CpuMeter(server.all_pids)
    cpu_ms: dict[str, float] = {}
    bare_runs: list[Run] = []

    async def bare_phase(name: str) -> StepFigures:
        print(f"\n[{name}] {options.clients} clients POST the bare insert view")
        samples: list[Sample] = []
        stats: Counter[str] = Counter()
        meter.begin()
        start, end = await run_clients(
            bare_client, options.clients, server.port, seconds, ledger, samples, stats, prefix=name
        )
        cpu_ms[name] = meter.end(len(samples))
        bare_runs.append((samples, (start + options.warmup, end)))
        row = figures([bare_runs[-1]], {"bare POST"}, "bare POST", {200})
        print_figures([row])
        print(f"  {_stats_line(stats)}")
        return row

    first_bare = await bare_phase("bare")

    print(f"\n[submit] preparing {options.submit_pool:,} filled-in responses")
    ledger.template = await fill_template(server.port)
    begun = time.perf_counter()
    pool = await asyncio.to_thread(prepare_responses, ledger.template, options.submit_pool)
    await asyncio.to_thread(_close_django_connections)
    ledger.issued.update(pool, [ledger.template])
    print(
        f"  prepared in {time.perf_counter() - begun:.1f} s (ORM bulk copy of one response "
        f"filled in through the pages, then VACUUM ANALYZE); {options.clients} clients POST "
        "'Submit my answers' of one of them after another"
    )
    samples: list[Sample] = []
    stats: Counter[str] = Counter()
    pool_empty: list[float] = []
    meter.begin()
    start, end = await run_clients(
        submit_client,
        options.clients,
        server.port,
        seconds,
        ledger,
        samples,
        stats,
        pool=pool,
        pool_empty=pool_empty,
    )
    cpu_ms["submit"] = meter.end(len(samples))
    end = min([end, *pool_empty])
    if pool_empty:
        print(f"  the prepared responses ran out {end - start:.1f} s in; rate measured up to then")
    submit = figures(
        [(samples, (start + options.warmup, end))], {"submit POST"}, "submit POST", {302}
    )
    print_figures([submit])
    print(f"  {_stats_line(stats)}")

    print(
        f"\n[flow] {options.clients} clients answer the whole survey, respondent after respondent"
    )
    samples = []
    stats = Counter()
    acked_before = len(ledger.acked)
    meter.begin()
    start, end = await run_clients(
        flow_client, options.clients, server.port, seconds, ledger, samples, stats
    )
    cpu_ms["flow"] = meter.end(len(samples))
    run: Run = (samples, (start + options.warmup, end))
    rows = [figures([run], set(FLOW_STEPS), "all requests", OK)]
    rows += [figures([run], {step}, step, OK) for step in FLOW_STEPS]
    print_figures(rows)
    completed = sum(
        1 for t in list(ledger.acked.values())[acked_before:] if run[1][0] <= t <= run[1][1]
    )
    respondents_per_second = completed / (run[1][1] - run[1][0])
    print(f"  completed respondents: {respondents_per_second:.1f}/s")
    print(f"  {_stats_line(stats)}")

    second_bare = await bare_phase("bare again")
    bare = figures(bare_runs, {"bare POST"}, "bare POST, both runs", {200})
    print("\n[bare, both runs pooled: the baseline for the ratios]")
    print_figures([bare])
    return Measured(
        bare=bare,
        bare_runs=[first_bare, second_bare],
        submit=submit,
        flow=rows[0],
        flow_submit=next(row for row in rows if row.step == "submit POST"),
        respondents_per_second=respondents_per_second,
        cpu_ms=cpu_ms,
    )


def _stats_line(stats: Counter[str]) -> str:
    if not stats:
        return "no request needed a retry"
    return "retries: " + ", ".join(f"{name}: {n}" for name, n in sorted(stats.items()))


def _close_django_connections() -> None:
    from django.db import connections

    connections.close_all()


# A transaction that has sent a statement only the submit sends (the conditional update of
# the response's status, the feedback items' insert) and has a transaction id, so that it
# holds the response's row.
MID_SUBMIT_SQL = """
SELECT client_port, backend_xid::text FROM pg_stat_activity
WHERE datname = %s AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL
  AND (query LIKE 'WITH done AS (UPDATE engagement_response%%'
       OR query LIKE 'UPDATE engagement_response SET status%%'
       OR query LIKE 'INSERT INTO engagement_feedbackitem%%')
"""
# The response that transaction locked (xmax) or wrote (xmin), committed or not.
LOCKED_RESPONSE_SQL = (
    "SELECT id FROM engagement_response WHERE xmax = %s::xid OR xmin = %s::xid LIMIT 1"
)
# Whether a transaction committed; backend_xid has no epoch, pg_xact_status wants one.
XACT_STATUS_SQL = (
    "SELECT pg_xact_status("
    "(((pg_current_xact_id()::text::bigint >> 32) << 32) + %s::bigint)::text::xid8)"
)


def _workers_by_database_port(server: Server) -> dict[int, int]:
    """{local port of a PostgreSQL connection: the gunicorn worker that holds it}.

    Reading /proc/net/tcp is slow while thousands of closed client connections sit in
    TIME_WAIT, so this is done before waiting for a submit, not on each look.
    """
    sockets: dict[str, int] = {}
    for pid in server.worker_pids():
        with contextlib.suppress(OSError):
            for descriptor in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(descriptor)
                    if target.startswith("socket:["):
                        sockets[target[8:-1]] = pid
    workers: dict[int, int] = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if parts[9] in sockets and int(parts[2].split(":")[1], 16) == 5432:
            workers[int(parts[1].split(":")[1], 16)] = sockets[parts[9]]
    return workers


@dataclass
class Event:
    action: str
    at: float = 0.0  # time.perf_counter() when the signal went
    wall_clock: float = 0.0  # time.time() then, to compare with submitted_at
    xid: str | None = None  # the submit transaction open in the worker when it went
    response_id: int | None = None  # the response that transaction was submitting


def catch_mid_submit(server: Server, event: Event, act: Callable[[int], None]) -> None:
    """Wait (up to 10 s) until a worker is inside response_submit's transaction, then call
    act(worker pid) at once; without one, act on any worker."""
    import psycopg

    with psycopg.connect(f"{POSTGRES_URL}/{DATABASE_NAME}", autocommit=True) as connection:
        give_up = time.perf_counter() + 10
        workers = _workers_by_database_port(server)
        while time.perf_counter() < give_up:
            rows: dict[int, str] = dict(
                connection.execute(MID_SUBMIT_SQL, [DATABASE_NAME]).fetchall()
            )
            port = next((port for port in rows if port in workers), None)
            if rows and port is None:
                workers = _workers_by_database_port(server)  # a new worker, a new connection
            if port is not None:
                event.at, event.wall_clock = time.perf_counter(), time.time()
                act(workers[port])
                event.xid = rows[port]
                locked = connection.execute(LOCKED_RESPONSE_SQL, [event.xid, event.xid]).fetchone()
                event.response_id = locked[0] if locked else None
                return
            time.sleep(0.0005)
    event.at, event.wall_clock = time.perf_counter(), time.time()
    act(server.worker_pids()[0])


def _stop_master(master: int, _worker: int) -> None:
    os.kill(master, signal.SIGTERM)  # gunicorn's graceful stop


def _crash_server(master: int, _worker: int) -> None:
    os.killpg(master, signal.SIGKILL)  # the master leads the process group of its workers


KILL_ACTIONS = (
    "SIGKILL one worker",
    "SIGKILL one worker",
    "SIGTERM the master, start a new server",
    "SIGKILL master and workers, start a new server",
)


async def kill_phase(server: Server, options: Options, ledger: Ledger) -> list[Event]:
    """Half the clients answer the survey, half submit prepared responses, while the server
    is hurt four times, each time while a worker is inside a submit's transaction."""
    gap = options.duration / 5
    flow_clients = options.clients // 2
    submit_clients = options.clients - flow_clients
    print(
        f"\n[kill test] {flow_clients} clients answer the survey and {submit_clients} submit "
        f"prepared responses; every {gap:.0f} s, while a worker is inside a submit's "
        "transaction: " + "; ".join(KILL_ACTIONS)
    )
    pool = await asyncio.to_thread(prepare_responses, ledger.template, options.submit_pool)
    await asyncio.to_thread(_close_django_connections)
    ledger.issued.update(pool)
    samples: list[Sample] = []
    stats: Counter[str] = Counter()
    events: list[Event] = []
    deadline = Deadline(float("inf"))
    start = time.perf_counter()

    async def saboteur() -> None:
        await asyncio.sleep(options.warmup)
        for action in KILL_ACTIONS:
            await asyncio.sleep(gap)
            event = Event(action)
            events.append(event)
            assert server.process is not None  # noqa: S101  (started before the phase)
            master = server.process.pid
            if action.startswith("SIGKILL one"):
                await asyncio.to_thread(
                    catch_mid_submit, server, event, lambda pid: os.kill(pid, signal.SIGKILL)
                )
                print(f"  {event.at - start:5.1f} s: {action}")
                continue
            if action.startswith("SIGTERM"):
                await asyncio.to_thread(
                    catch_mid_submit, server, event, functools.partial(_stop_master, master)
                )
            else:
                await asyncio.to_thread(
                    catch_mid_submit, server, event, functools.partial(_crash_server, master)
                )
            await asyncio.to_thread(server.process.wait)
            down = time.perf_counter()
            server.start()
            ready = await server.wait_ready()
            print(
                f"  {event.at - start:5.1f} s: {action.split(',')[0]}; it had exited "
                f"{down - event.at:.1f} s later, a new one answered {ready:.1f} s after that"
            )
        await asyncio.sleep(gap)
        deadline.at = time.perf_counter()

    sabotage = asyncio.create_task(saboteur())
    try:
        await asyncio.gather(
            run_clients(
                flow_client, flow_clients, server.port, 0, ledger, samples, stats, deadline
            ),
            run_clients(
                submit_client,
                submit_clients,
                server.port,
                0,
                ledger,
                samples,
                stats,
                deadline,
                pool=pool,
                pool_empty=[],
            ),
        )
    finally:
        sabotage.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sabotage
    retried = Counter(s.step for s in samples if s.retries)
    statuses = Counter(s.status for s in samples)
    print(
        f"  {len(samples)} requests in {time.perf_counter() - start:.0f} s; replies by status: "
        f"{dict(sorted(statuses.items()))}; requests that needed retries: "
        f"{dict(sorted(retried.items())) or 'none'}"
    )
    print(f"  {_stats_line(stats)}")
    ledger.kill_samples = samples
    return events


# --- in-process profile --------------------------------------------------------------------------


def profile_submit(template_token: str, count: int) -> None:
    """SQL per step of one respondent, and cProfile over `count` submits, in this process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    print("\n[profile] one respondent through django.test.Client, in this process")
    print(f"  {'step':22} {'queries':>7} {'SQL ms':>8} {'total ms':>9}")

    def step(name: str, call: Callable[[], Any]) -> Any:
        with CaptureQueriesContext(connection) as queries:
            begun = time.perf_counter()
            reply = call()
            total = (time.perf_counter() - begun) * 1000
        sql = sum(float(q["time"]) for q in queries.captured_queries) * 1000
        print(f"  {name:22} {len(queries):7d} {sql:8.1f} {total:9.1f}")
        return reply

    step("start GET", lambda: client.get(f"/surveys/{SURVEY_SLUG}/"))
    reply = step("start POST", lambda: client.post(f"/surveys/{SURVEY_SLUG}/", {"code": ""}))
    location = reply["Location"]
    for number, answers in enumerate(PAGES, start=1):
        data: dict[str, list[str]] = {}
        for key, value in answers:
            data.setdefault(key, []).append(value)
        step(f"page {number} GET", functools.partial(client.get, location))
        reply = step(f"page {number} POST", functools.partial(client.post, location, data))
        location = reply["Location"]
    step("review GET", lambda: client.get(location))
    with CaptureQueriesContext(connection) as submit_queries:
        step("submit POST", lambda: client.post(location))
    step("retried submit POST", lambda: client.post(location))
    step("thanks GET", lambda: client.get(THANKS_PATH))
    step("bare POST", lambda: client.post("/bench/bare-insert/", {"token": "profile"}))
    print("\n  the queries of the submit POST:")
    for query in submit_queries.captured_queries:
        print(f"  {float(query['time']) * 1000:6.1f} ms  {query['sql'][:110]}")

    tokens = prepare_responses(template_token, 2 * count)
    bare_begun = time.perf_counter()
    for number in range(count):
        client.post("/bench/bare-insert/", {"token": f"profile-{number}"})
    bare_ms = (time.perf_counter() - bare_begun) * 1000 / count
    begun = time.perf_counter()
    for token in tokens[:count]:
        client.post(f"/surveys/{SURVEY_SLUG}/r/{token}/review/")
    submit_ms = (time.perf_counter() - begun) * 1000 / count
    profiler = cProfile.Profile()
    begun = time.perf_counter()
    profiler.enable()
    for token in tokens[count:]:
        client.post(f"/surveys/{SURVEY_SLUG}/r/{token}/review/")
    profiler.disable()
    profiled_ms = (time.perf_counter() - begun) * 1000 / count
    print(
        f"\n  in-process, {count} one after another: submit POST {submit_ms:.2f} ms each "
        f"({profiled_ms:.2f} ms under cProfile), bare POST {bare_ms:.2f} ms each"
    )
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(
        r"csas|django/(db/models/(query|sql/compiler)|template/base|core/handlers)", 30
    )
    print("  cProfile, cumulative time, csas and the main Django layers:")
    print("\n".join("  " + line for line in out.getvalue().splitlines() if line.strip()))
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    print("  cProfile, own time (where the CPU and the waiting are spent):")
    print("\n".join("  " + line for line in out.getvalue().splitlines() if line.strip()))


# --- main ---------------------------------------------------------------------------------------


def parse_options() -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per gunicorn worker: 1 = sync workers, more = gthread workers",
    )
    parser.add_argument(
        "--submit-pool",
        type=int,
        default=None,
        help="filled-in responses prepared for the submit phase (default: 1,000 per second "
        "of warm-up and measurement, at least 6,000)",
    )
    parser.add_argument("--kill-test", action="store_true", help="add the kill/restart phase")
    parser.add_argument("--profile", action="store_true", help="add the in-process profile")
    parser.add_argument("--keep-db", action="store_true", help="leave csas_bench in place")
    args = parser.parse_args()
    return Options(
        duration=args.duration,
        warmup=args.warmup,
        clients=args.clients,
        threads=args.threads,
        submit_pool=args.submit_pool
        if args.submit_pool is not None
        else max(6000, int(1000 * (args.warmup + args.duration))),
        kill_test=args.kill_test,
        profile=args.profile,
        keep_db=args.keep_db,
    )


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


async def run(options: Options, server: Server) -> bool:
    ledger = Ledger()
    server.start()
    print(
        f"{server.description} on http://{HOST}:{server.port}/ ready in "
        f"{await server.wait_ready():.1f} s"
    )
    measured = await load_phases(server, options, ledger)
    kill_events: list[Event] = []
    if options.kill_test:
        kill_events = await kill_phase(server, options, ledger)
    server.stop()

    bare, submit, flow = measured.bare, measured.submit, measured.flow
    throughput_ratio = submit.per_second / bare.per_second
    bare_cpu = (measured.cpu_ms["bare"] + measured.cpu_ms["bare again"]) / 2
    print("\n[ratios to the bare insert view, same run, same clients]")
    print(
        f"  submit POST throughput / bare:   {throughput_ratio:6.3f}  "
        f"({submit.per_second:.1f} / {bare.per_second:.1f} req/s; target >= 0.5: "
        f"{_verdict(throughput_ratio >= 0.5)})"
    )
    print(
        f"  submit POST p99 {submit.p99_ms:7.1f} ms, bare p99 {bare.p99_ms:7.1f} ms: "
        f"x{submit.p99_ms / bare.p99_ms:.1f}  (target p99 < 300 ms: "
        f"{_verdict(submit.p99_ms < 300)})"
    )
    print(
        f"  submit POST p50 {submit.p50_ms:7.1f} ms, bare p50 {bare.p50_ms:7.1f} ms: "
        f"x{submit.p50_ms / bare.p50_ms:.1f}"
    )
    print(
        f"  gunicorn + PostgreSQL CPU per request: submit {measured.cpu_ms['submit']:.2f} ms, "
        f"bare {bare_cpu:.2f} ms: bare / submit = {bare_cpu / measured.cpu_ms['submit']:.3f}"
    )
    print(
        f"  whole flow, all requests / bare: {flow.per_second / bare.per_second:6.3f}  "
        f"({flow.per_second:.0f} req/s, {measured.respondents_per_second:.1f} respondents/s, "
        f"{measured.cpu_ms['flow']:.2f} ms CPU per request)"
    )
    print(
        f"  submit POST within the flow: p50 {measured.flow_submit.p50_ms:.1f} ms, p99 "
        f"{measured.flow_submit.p99_ms:.1f} ms"
    )

    await asyncio.to_thread(_close_django_connections)
    response_checks = await asyncio.to_thread(check_responses, ledger)
    bare_checks = await asyncio.to_thread(check_bare, ledger)
    print("\n[correctness, from the database]")
    for name, value in response_checks.items():
        print(f"  responses: {name}: {value}")
    for name, value in bare_checks.items():
        print(f"  bare rows: {name}: {value}")
    print(
        f"  double submits (two at once): {ledger.double_submits}, not both thanked: "
        f"{ledger.double_submit_bad}"
    )
    print(
        f"  retried submits after the thanks: {ledger.retried_submits}, not thanked: "
        f"{ledger.retried_submit_bad}"
    )
    print(f"  client errors: {dict(ledger.errors) or 'none'}")
    failures = (
        response_checks["lost (acknowledged, not submitted)"]
        + response_checks["duplicated (submitted, no client started it)"]
        + response_checks["submitted twice (>1 feedback item per response)"]
        + bare_checks["lost (acknowledged, no row)"]
        + bare_checks["duplicated (token inserted twice)"]
        + ledger.double_submit_bad
        + ledger.retried_submit_bad
    )
    failures += await asyncio.to_thread(check_kill_events, kill_events, ledger)
    print(f"  lost or duplicated: {failures} (target 0: {_verdict(failures == 0)})")
    errors = sum(ledger.errors.values())

    if options.profile:
        await asyncio.to_thread(profile_submit, ledger.template, 300)
        await asyncio.to_thread(_close_django_connections)
    return failures == 0 and errors == 0


def main() -> int:
    options = parse_options()
    sys.path.insert(0, str(REPO_ROOT))  # so that `benchmarks.bench_settings` imports
    data_dir = Path(tempfile.mkdtemp(prefix="csas-bench-"))
    env = {
        "DJANGO_SETTINGS_MODULE": "benchmarks.bench_settings",
        "DATABASE_URL": f"{POSTGRES_URL}/{DATABASE_NAME}",
        "CSAS_DATA_DIR": str(data_dir),
        "CSAS_SECRET_KEY": secrets.token_urlsafe(50),
        "CSAS_ALLOWED_HOSTS": HOST,
        "CSAS_SURVEY_STARTS_PER_HOUR": str(10**9),
        "CSAS_DEBUG": "false",
        "CSAS_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    server_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    server = Server(free_port(), server_env, options.threads, data_dir / "gunicorn.log")
    # Ctrl+C and SIGTERM (a CI timeout, `kill`) unwind through the cleanup below, also when
    # the shell started us with SIGINT ignored (a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    created = False
    try:
        database_admin(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
        database_admin(f"CREATE DATABASE {DATABASE_NAME}")
        created = True
        import django

        django.setup()
        begun = time.perf_counter()
        versions = database_setup()
        _close_django_connections()
        print(
            f"{os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()}, "
            f"Django {django.get_version()}, gunicorn {importlib.metadata.version('gunicorn')}, "
            f"psycopg {importlib.metadata.version('psycopg')}, PostgreSQL {versions['postgres']}"
        )
        print(
            f"database {DATABASE_NAME} set up in {time.perf_counter() - begun:.1f} s: migrations, "
            f"Tacoma strategy, survey {SURVEY_SLUG!r} ({SURVEY_FILE.relative_to(REPO_ROOT)}) open"
        )
        print(
            f"{options.clients} clients, {options.warmup:.0f} s warm-up + "
            f"{options.duration:.0f} s measured per phase; load generator in this process"
        )
        ok = asyncio.run(run(options, server))
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        ok = False
    except Exception:
        print(f"\nserver log tail:\n{server.tail()}", file=sys.stderr)
        raise
    finally:
        server.stop()
        with contextlib.suppress(Exception):
            _close_django_connections()
        if created and not options.keep_db:
            database_admin(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
        elif created:
            print(f"kept database {DATABASE_NAME} and data folder {data_dir}")
        if not options.keep_db:
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""A coding run through the service, against the coding library alone, in the same process.

Usage:
    .venv/bin/python benchmarks/bench_coding_run.py [--items 10000] [--reviews 40]

Builds a fresh SQLite database in a temporary data folder (migrations, the bundled Tacoma
strategy, the codebook synced from it), stores ``--items`` published feedback items (the 390
shipped Austin comments, repeated with a number appended so that no two are equal), then times:

1. **zero-shot**: the library alone (`code_comments` with explanations, on the same texts and
   the same codebook) and `coding_run_start` (reading the items, coding, detecting languages,
   replacing the machine codes and writing them in one transaction);
2. **trained**: after ``--reviews`` reviews (the first items, coded by hand as the shipped file
   codes them), the library alone (`train_coder` on the same examples, then coding without
   explanations plus explanations for the 500 least confident) and `coding_run_start`.

Each line prints seconds and the service's time as a multiple of the library's: what the
database side costs on top of the coding itself. Timings are wall clock on a shared machine;
compare the ratios. Record the figures in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--reviews", type=int, default=40)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="csas-bench-coding-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "csas.config.settings"
    os.environ["CSAS_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    try:
        return _run(args.items, args.reviews)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _run(n_items: int, n_reviews: int) -> int:
    import django

    django.setup()
    from django.core.management import call_command

    from csas.accounts.models import Role, User
    from csas.analysis.insight import coding as library
    from csas.engagement.models import FeedbackItem, FeedbackSource, ModerationStatus
    from csas.insight import coding_services as services
    from csas.insight.models import Code, CodeKind
    from csas.strategy.models import Strategy

    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_strategy", verbosity=0)
    strategy = Strategy.objects.get(slug="tacoma-csas")
    services.codebook_sync_from_strategy(strategy=strategy)
    source = REPO / "src" / "csas" / "data" / "insight" / "austin-coded.csv"
    with source.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    texts = [f"{rows[i % len(rows)]['comment']} ({i})" for i in range(n_items)]
    FeedbackItem.objects.bulk_create(
        [
            FeedbackItem(
                strategy=strategy,
                source=FeedbackSource.IMPORT,
                text=text,
                status=ModerationStatus.PUBLISHED,
            )
            for text in texts
        ],
        batch_size=2_000,
    )
    codes = list(Code.objects.filter(strategy=strategy, is_active=True).order_by("kind", "order"))
    codebook = services.codebook_for_coding(codes)
    print(f"{n_items:,} items, {len(codes)} codes, load average {os.getloadavg()[0]:.2f}")

    started = time.perf_counter()
    library.code_comments(texts, library.zero_shot_coder(codebook), explain=True)
    library_seconds = time.perf_counter() - started
    started = time.perf_counter()
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(services.coding_run_start, strategy=strategy)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    else:
        services.coding_run_start(strategy=strategy)
    service_seconds = time.perf_counter() - started
    _line("zero-shot", library_seconds, service_seconds)

    reviewer = User.objects.create(username="bench-reviewer", role=Role.STRATEGY_STAFF)
    goal_codes = {code.key: code.pk for code in codes if code.kind == CodeKind.GOAL}
    items = list(FeedbackItem.objects.filter(strategy=strategy).order_by("pk")[:n_reviews])
    for index, item in enumerate(items):
        goals = [g for g in rows[index % len(rows)]["goals"].split("|") if g in goal_codes]
        services.review_record(item=item, coder=reviewer, code_ids=[goal_codes[g] for g in goals])
    examples = library.CodedExamples(
        texts=tuple(texts[:n_reviews]),
        codes=tuple(
            frozenset(g for g in rows[i % len(rows)]["goals"].split("|") if g in goal_codes)
            for i in range(n_reviews)
        ),
    )
    started = time.perf_counter()
    try:
        shipped = library.load_examples()
        examples = library.CodedExamples(
            texts=examples.texts + shipped.texts, codes=examples.codes + shipped.codes
        )
        coder = library.train_coder(examples, codebook=codebook)
        result = library.code_comments(texts, coder, explain=False)
        rows_to_explain = library.least_confident_first(result, limit=services.EXPLAIN_LIMIT)
        library.code_comments([texts[r] for r in rows_to_explain], coder, explain=True)
    except (TypeError, ValueError) as error:  # the library's example format changed
        print(f"trained: library baseline skipped ({error})")
        return 0
    library_seconds = time.perf_counter() - started
    started = time.perf_counter()
    run = services.coding_run_start(strategy=strategy).run
    service_seconds = time.perf_counter() - started
    _line(
        f"trained ({run.method}, {run.n_training_examples} examples)",
        library_seconds,
        service_seconds,
    )
    return 0


def _line(label: str, library_seconds: float, service_seconds: float) -> None:
    print(
        f"{label:<48} library {library_seconds:6.2f} s   service {service_seconds:6.2f} s   "
        f"service / library {service_seconds / library_seconds:5.2f}x"
    )


if __name__ == "__main__":
    sys.exit(main())

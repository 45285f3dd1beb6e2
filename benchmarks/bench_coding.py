"""Benchmark: comment coding (csas.analysis.insight.coding): accuracy and throughput.

    .venv/bin/python benchmarks/bench_coding.py                    # everything, 100,000 comments
    .venv/bin/python benchmarks/bench_coding.py --skip-throughput  # accuracy only (about 1 min)
    .venv/bin/python benchmarks/bench_coding.py --check-sample     # re-derive the coded sample

Accuracy: macro-F1 over the four goals on the shipped evaluation set
(``src/csas/data/insight/austin-coded.csv``, 390 Austin comments coded by hand), for the
zero-shot coder and for supervised coders trained on 100 and 200 examples. Each figure is the
mean over repeated stratified train/test splits (``cross_validate``, seed 0): a coder is
trained on the training rows only (its thresholds tuned by cross-validation inside them) and
scored on every other row. The same is done with the lexicon removed from the codebook (the
codes' descriptions and examples only), and once more with a split by selection: trained on
the 230 keyword-selected rows, tested on the 160 randomly selected rows.

Throughput: the real comments resampled with replacement to ``--rows`` rows (seed 0) and
written to a CSV file; then, in a fresh process each, timed end to end:

* csas: ``code_csv`` with its defaults (train the default coder on the 390 shipped examples,
  read, tokenise, match the lexicon, vectorise words and characters, score, write);
* baseline "TF-IDF only": read the CSV and apply a word TF-IDF fitted on the same examples -
  the vectorisation step every learnt coder needs, without any model or output;
* baseline "keyword matcher": read the CSV, one regular expression per goal built from the
  codebook's keywords, write the goals - the trivial coder an analyst would write first.

The selection rule of the evaluation sample is in `select_evaluation_rows` (SOURCE.md
describes it); ``--check-sample`` reruns it on the source file and compares.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import multiprocessing
import random
import re
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from csas.analysis.insight import coding
from csas.analysis.insight.coding import (
    Codebook,
    CodedExamples,
    agreement,
    code_comments,
    cross_validate,
    load_codebook,
    load_examples,
    train_coder,
    zero_shot_coder,
)

SOURCE = Path(__file__).resolve().parent / "data" / "austin-comments.csv"
GOALS = ("PLACES", "PEOPLE", "RESPONSE", "REPAIR")

# --- the evaluation sample ----------------------------------------------------------------------

SAMPLE_SEED = 20251216  # the day Tacoma adopted its strategy
N_RANDOM = 160
# Keyword pre-screens, in the order they are applied, with the rows taken from each.
SCREENS: tuple[tuple[str, int, str], ...] = (
    (
        "REPAIR",
        70,
        r"racis|racial|discriminat|minorit|segregat|divers|belong|gentrif|restorative|trauma"
        r"|\bheal(ing)?\b|mediat|re-?entry|prison|jail|incarcerat|diversion|trust|relationship"
        r"|brutal|profil|people of color|\bblack\b|hispanic|latin[oa]|immigra|inclusi|equit"
        r"|sanctuary",
    ),
    (
        "RESPONSE",
        60,
        r"polic|\bcops?\b|officer|\bapd\b|sheriff|\bfire\b|firefight|\bems\b|ambulance|\b911\b"
        r"|emergenc|response time|patrol|enforce|crime|criminal|arrest|flood|disaster",
    ),
    (
        "PEOPLE",
        60,
        r"homeless|panhandl|shelter|mental|substance|addict|\bdrugs?\b|opioid|rehab|youth|teen"
        r"|after.?school|domestic|abuse|disabilit|disabled|senior|elderly|social service"
        r"|human service|child ?care|foster|refugee|veteran",
    ),
    (
        "PLACES",
        40,
        r"\bsafe|unsafe|danger|lighting|street ?lights?|sidewalk|crosswalk|pedestrian|speeding"
        r"|litter|trash|graffiti|\bparks?\b|vandal|theft|break-?ins?|burglar",
    ),
)


def _normalised(text: str) -> str:
    return " ".join(text.lower().split())


def select_evaluation_rows(path: Path) -> dict[int, str]:
    """Row number (1 = first record after the header) -> how the row was selected.

    One `random.Random(SAMPLE_SEED)` drives everything: a shuffle of all rows, from which the
    first N_RANDOM rows are taken ("random"); then for each screen in order, the rows not yet
    chosen whose comment matches the screen (case-insensitive), shuffled, and the first n
    taken ("keyword-GOAL"). A row whose comment, lower-cased with spaces collapsed, equals one
    already chosen (or is empty) is skipped, so the set has no duplicate texts.
    """
    with path.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.DictReader(handle))
    rng = random.Random(SAMPLE_SEED)  # noqa: S311 - a reproducible sample, not a secret
    chosen: dict[int, str] = {}
    seen: set[str] = set()

    def take(row: int, how: str) -> bool:
        key = _normalised(records[row - 1]["comment"])
        if not key or key in seen:
            return False
        seen.add(key)
        chosen[row] = how
        return True

    taken = 0
    for row in rng.sample(range(1, len(records) + 1), len(records)):
        if taken == N_RANDOM:
            break
        taken += take(row, "random")
    for goal, wanted, pattern in SCREENS:
        screen = re.compile(pattern, re.IGNORECASE)
        pool = [
            row
            for row in range(1, len(records) + 1)
            if row not in chosen and screen.search(records[row - 1]["comment"])
        ]
        rng.shuffle(pool)
        taken = 0
        for row in pool:
            if taken == wanted:
                break
            taken += take(row, f"keyword-{goal}")
    return chosen


def check_sample(path: Path) -> bool:
    with (coding.DATA_DIR / "austin-coded.csv").open(encoding="utf-8", newline="") as handle:
        shipped = {int(row["row"]): row for row in csv.DictReader(handle)}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.DictReader(handle))
    derived = select_evaluation_rows(path)
    same_rows = derived == {row: r["selection"] for row, r in shipped.items()}
    same_text = all(records[row - 1]["comment"] == r["comment"] for row, r in shipped.items())
    print(f"rows and selection match: {same_rows}; comments match the source: {same_text}")
    return same_rows and same_text


# --- accuracy -----------------------------------------------------------------------------------


def _without_lexicon(codebook: Codebook) -> Codebook:
    return Codebook(
        codebook.name + " (no lexicon)",
        tuple(dataclasses.replace(c, keywords=(), related=()) for c in codebook.codes),
    )


def _row(label: str, result: coding.CrossValidationResult) -> str:
    per_code = " / ".join(f"{result.per_code_f1[g]:.2f}" for g in GOALS)
    return (
        f"| {label} | {result.train_size} | {result.test_size} | {result.repeats} | "
        f"{result.macro_f1:.3f} | {result.macro_f1_sd:.3f} | "
        f"{result.macro_f1_min:.3f}-{result.macro_f1_max:.3f} | {per_code} |"
    )


def accuracy(repeats: int) -> None:
    examples = load_examples()
    codebook = load_codebook()
    counts = examples.counts(GOALS)
    print(f"evaluation set: {examples.n} comments; positives {counts}; ", end="")
    print(f"none {sum(not c for c in examples.codes)}")
    print()
    print(
        "| codebook | training examples | test rows | splits | macro-F1 mean | sd | range | "
        "F1 PLACES / PEOPLE / RESPONSE / REPAIR |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, book in (
        ("shipped (lexicon)", codebook),
        ("descriptions + examples only", _without_lexicon(codebook)),
    ):
        for size in (0, 100, 200):
            started = time.perf_counter()
            result = cross_validate(
                examples, codebook=book, train_size=size, repeats=repeats, seed=0
            )
            print(_row(label, result), f"<!-- {time.perf_counter() - started:.1f} s -->")
    print()
    with (coding.DATA_DIR / "austin-coded.csv").open(encoding="utf-8", newline="") as handle:
        selection = [row["selection"] for row in csv.DictReader(handle)]
    train_rows = [i for i, how in enumerate(selection) if how != "random"]
    test_rows = [i for i, how in enumerate(selection) if how == "random"]
    train, test = examples.subset(train_rows), examples.subset(test_rows)
    print(f"split by selection: train on {train.n} keyword-selected rows, test on {test.n} random")
    print("| coder | macro-F1 | F1 PLACES / PEOPLE / RESPONSE / REPAIR | positives in test |")
    print("|---|---|---|---|")
    for label, coder in (
        ("zero-shot", zero_shot_coder(codebook)),
        (f"supervised ({train.n} examples)", train_coder(train, codebook=codebook)),
    ):
        _selection_row(label, coder, test)


def _selection_row(label: str, coder: coding.Coder, test: CodedExamples) -> None:
    predicted = [set(item.codes) for item in code_comments(test.texts, coder).items]
    report = agreement(predicted, test.codes, GOALS)
    by_code = report.by_code()
    per_code = " / ".join(f"{by_code[g].f1:.2f}" for g in GOALS)
    positives = " / ".join(str(by_code[g].n_reference) for g in GOALS)
    print(f"| {label} | {report.macro_f1:.3f} | {per_code} | {positives} |")


# --- throughput ---------------------------------------------------------------------------------


def _resampled(path: Path, rows: int, target: Path) -> None:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.DictReader(handle))
    rng = random.Random(0)  # noqa: S311 - a reproducible resample, not a secret
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "year", "council_district", "comment"])
        for i in range(rows):
            record = records[rng.randrange(len(records))]
            writer.writerow([i, record["year"], record["council_district"], record["comment"]])


def _run_csas(source: str, target: str) -> dict[str, Any]:
    started = time.perf_counter()
    summary = coding.code_csv(source, "comment", target)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak, "counts": dict(summary.counts)}


def _read_texts(source: str) -> list[str]:
    with open(source, encoding="utf-8-sig", newline="") as handle:
        return [row["comment"] for row in csv.DictReader(handle)]


def _run_tfidf(source: str, target: str) -> dict[str, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    started = time.perf_counter()
    vectoriser = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    vectoriser.fit(load_examples().texts)
    matrix = vectoriser.transform(_read_texts(source))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "nnz": int(matrix.nnz)}


def _run_keywords(source: str, target: str) -> dict[str, Any]:
    started = time.perf_counter()
    patterns = {}
    for code in load_codebook().codes:
        words = sorted({k.rstrip("*") for k in code.keywords}, key=len, reverse=True)
        patterns[code.id] = re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + ")", re.I)
    counts: Counter[str] = Counter()
    with (
        open(source, encoding="utf-8-sig", newline="") as handle,
        open(target, "w", encoding="utf-8", newline="") as out,
    ):
        reader = csv.reader(handle)
        writer = csv.writer(out)
        header = next(reader)
        at = header.index("comment")
        writer.writerow([*header, "goals"])
        for row in reader:
            goals = [g for g, p in patterns.items() if p.search(row[at])]
            counts.update(goals)
            writer.writerow([*row, "|".join(goals)])
    return {"seconds": time.perf_counter() - started, "counts": dict(counts)}


def _in_fresh_process(function: Any, *args: str) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result: dict[str, Any] = pool.apply(function, args)
    return result


def throughput(path: Path, rows: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "comments.csv"
        _resampled(path, rows, source)
        size_mb = source.stat().st_size / 1e6
        print(f"input: {rows:,} comments resampled from {path.name} ({size_mb:.1f} MB)")
        results = {
            "csas code_csv (default coder)": _in_fresh_process(
                _run_csas, str(source), str(Path(directory) / "coded.csv")
            ),
            "baseline: read + word TF-IDF transform": _in_fresh_process(
                _run_tfidf, str(source), str(Path(directory) / "unused.csv")
            ),
            "baseline: keyword regex per goal + write": _in_fresh_process(
                _run_keywords, str(source), str(Path(directory) / "keywords.csv")
            ),
        }
    csas_seconds = results["csas code_csv (default coder)"]["seconds"]
    print("| step | wall s | comments/s | csas / this |")
    print("|---|---|---|---|")
    for label, result in results.items():
        seconds = result["seconds"]
        print(
            f"| {label} | {seconds:.2f} | {rows / seconds:,.0f} | {csas_seconds / seconds:.2f}x |"
        )
    csas = results["csas code_csv (default coder)"]
    print(f"csas peak resident memory: {csas['peak_mb']:.0f} MB; goals given: {csas['counts']}")
    verdict = "met" if csas_seconds < 60 else "NOT met"
    print(f"target 100,000 comments in under 60 s: {verdict} ({csas_seconds:.1f} s for {rows:,})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--comments", type=Path, default=SOURCE, help="the Austin comments CSV")
    parser.add_argument("--rows", type=int, default=100_000, help="comments for throughput")
    parser.add_argument("--repeats", type=int, default=10, help="train/test splits per figure")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--check-sample", action="store_true")
    args = parser.parse_args(argv)
    if args.check_sample:
        return 0 if check_sample(args.comments) else 1
    print(f"Python {sys.version.split()[0]}")
    if not args.skip_accuracy:
        accuracy(args.repeats)
        print()
    if not args.skip_throughput:
        throughput(args.comments, args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())

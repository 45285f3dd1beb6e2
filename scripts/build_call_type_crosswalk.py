"""Rebuild the call-type crosswalk from the vendored Vera / Two Sigma Data Clinic workbook.

    .venv/bin/python scripts/build_call_type_crosswalk.py           # rewrite the CSVs
    .venv/bin/python scripts/build_call_type_crosswalk.py --check   # fail if they are stale

Reads (never changes) ``src/csas/data/safety/vera/CallTypes_TS.xlsx`` with openpyxl, plus the
hand-written ``call_type_overrides.csv`` (csas's judgements on a few call types), and writes:

``call_type_crosswalk.csv``
    One row per row of the workbook's ``CallTypes`` sheet, in the workbook's order:

    - ``vera_row``: the row in the sheet (2 = first data row), for tracing back;
    - ``city``, ``source_column``: the city and the column of its data the type came from;
    - ``call_type``: the local call type as written (surrounding spaces removed);
    - ``truncated``: ``yes`` when Vera cut the text and it ends in ``...`` (matched as a prefix);
    - ``calls``: Vera's count of calls of that type;
    - ``vera_category``, ``vera_category_alternate``: Vera's columns as written (trimmed);
    - ``category``: the category csas uses: Vera's, spelled consistently (see
      `CATEGORY_SPELLINGS`), or an override's; empty when there is none;
    - ``category_source``: ``vera``, ``csas-override`` (see ``override_rationale``) or ``none``;
    - ``tier_override``: always empty here; a city's own copy may fill it to set a call type's
      tier directly (see docs/safety-profiles.md);
    - ``override_rationale``: why csas overrode Vera's category.

``self_initiated.csv``
    The ``SelfInitiated`` sheet: ``city``, ``source_column``, ``value``, ``calls``,
    ``self_initiated`` (yes/no as Vera coded it).

The output is deterministic: same inputs, same bytes (UTF-8, ``\\n`` line ends).
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from pathlib import Path

import openpyxl

DATA = Path(__file__).resolve().parent.parent / "src" / "csas" / "data" / "safety"
WORKBOOK = DATA / "vera" / "CallTypes_TS.xlsx"
OVERRIDES = DATA / "call_type_overrides.csv"

#: Vera's spellings of the same category, mapped to one (after trimming spaces).
CATEGORY_SPELLINGS = {
    "Assist the Public": "Assisting the Public",
    "Medical": "Medical Emergencies",
    "Warrant": "Warrants",
    "Call Related Isuues": "Call Related Issues",
}
#: Values Vera used for "not decided".
UNRESOLVED = {"", "?", "??", "???"}

CROSSWALK_COLUMNS = [
    "vera_row",
    "city",
    "source_column",
    "call_type",
    "truncated",
    "calls",
    "vera_category",
    "vera_category_alternate",
    "category",
    "category_source",
    "tier_override",
    "override_rationale",
]
SELF_INITIATED_COLUMNS = ["city", "source_column", "value", "calls", "self_initiated"]


def call_type_key(text: str) -> str:
    """The matching key of a call type: upper case, runs of non-alphanumerics -> one space.

    It must equal `csas.analysis.safety.taxonomy.call_type_key` (a test checks).
    """
    return re.sub(r"[^A-Z0-9]+", " ", text.upper()).strip()


def _text(value: object) -> str:
    return "" if value is None else str(value).replace("\xa0", " ").strip()


def _read_overrides(path: Path) -> list[tuple[re.Pattern[str], str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            (re.compile(row["pattern"]), row["category"].strip(), row["rationale"].strip())
            for row in csv.DictReader(handle)
        ]


def build(workbook: Path = WORKBOOK, overrides: Path = OVERRIDES) -> dict[str, str]:
    """The derived files' names and contents."""
    book = openpyxl.load_workbook(workbook, read_only=True, data_only=True)
    rules = _read_overrides(overrides)

    crosswalk = io.StringIO()
    writer = csv.writer(crosswalk, lineterminator="\n")
    writer.writerow(CROSSWALK_COLUMNS)
    sheet = book["CallTypes"]
    rows = sheet.iter_rows(min_row=1, values_only=True)
    header = [_text(v) for v in next(rows)]
    expected = ["City", "Column_name", "Field 1", "Count", "Category", "Category - Alternate"]
    if header[: len(expected)] != expected:
        raise SystemExit(f"{workbook.name} CallTypes: expected columns {expected}, found {header}")
    for number, row in enumerate(rows, start=2):
        city, column, call_type, count, category, alternate = (list(row) + [None] * 6)[:6]
        text = _text(call_type)
        vera_category = _text(category)
        chosen = CATEGORY_SPELLINGS.get(vera_category, vera_category)
        source = "vera" if chosen not in UNRESOLVED else "none"
        if source == "none":
            chosen = ""
        rationale = ""
        key = call_type_key(text)
        for pattern, override, why in rules:
            if pattern.search(key) and override != chosen:
                chosen, source, rationale = override, "csas-override", why
                break
        writer.writerow(
            [
                number,
                _text(city),
                _text(column),
                text,
                "yes" if text.endswith("...") else "no",
                int(count) if count is not None else 0,
                vera_category,
                _text(alternate),
                chosen,
                source,
                "",
                rationale,
            ]
        )

    initiated = io.StringIO()
    writer = csv.writer(initiated, lineterminator="\n")
    writer.writerow(SELF_INITIATED_COLUMNS)
    rows = book["SelfInitiated"].iter_rows(min_row=2, values_only=True)
    for city, column, value, count, self_initiated in ((list(r) + [None] * 5)[:5] for r in rows):
        writer.writerow(
            [
                _text(city),
                _text(column),
                _text(value),
                int(count) if count is not None else "",
                _text(self_initiated).lower(),
            ]
        )
    book.close()
    return {
        "call_type_crosswalk.csv": crosswalk.getvalue(),
        "self_initiated.csv": initiated.getvalue(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the files are stale")
    parser.add_argument("--out-dir", type=Path, default=DATA, help="where to write")
    args = parser.parse_args(argv)
    stale = []
    for name, content in build().items():
        target = args.out_dir / name
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if args.check:
            if current != content:
                stale.append(name)
            continue
        if current != content:
            target.write_bytes(content.encode("utf-8"))
        print(f"{target}: {content.count(chr(10)) - 1} rows")
    if stale:
        print(f"stale: {', '.join(stale)}; run scripts/build_call_type_crosswalk.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

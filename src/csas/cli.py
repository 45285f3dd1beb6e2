"""The `csas` command: friendly verbs over Django's management commands."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rich.console import Console

    from csas.analysis.safety.ingest import IngestReport


def _setup(data_dir: str | None = None) -> None:
    if data_dir:
        os.environ["CSAS_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csas.config.settings")
    Path(os.environ.get("CSAS_DATA_DIR", "var")).mkdir(parents=True, exist_ok=True)
    import django

    django.setup()


def _gunicorn(host: str, port: int, workers: int) -> NoReturn:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "csas.config.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--forwarded-allow-ips",
        "127.0.0.1",
    ]
    sys.stdout.flush()
    sys.stderr.flush()
    # gunicorn takes this process's place, so a stop signal (Ctrl+C, SIGTERM from a service
    # manager or `kill`) reaches it directly and no server is left running without its parent.
    os.execv(sys.executable, command)  # noqa: S606 (our own interpreter and arguments)


def cmd_demo(args: argparse.Namespace) -> int:
    _setup(args.data_dir)
    from django.conf import settings
    from django.core.management import call_command

    print(f"Data folder: {settings.DATA_DIR}")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("demo_setup")
    print(f"\nServing the demo on http://127.0.0.1:{args.port}/  (Ctrl+C stops it)")
    print(f"Back office: http://127.0.0.1:{args.port}/manage/ and /admin/\n")
    sys.stdout.flush()
    return _gunicorn("127.0.0.1", args.port, workers=2)


def cmd_serve(args: argparse.Namespace) -> int:
    _setup(args.data_dir)
    from django.conf import settings
    from django.core.management import call_command

    if args.migrate:
        call_command("migrate", interactive=False, verbosity=1)
    if settings.PRODUCTION:
        call_command("collectstatic", interactive=False, verbosity=0)
    return _gunicorn(args.host, args.port, args.workers)


def cmd_createadmin(args: argparse.Namespace) -> int:
    _setup(args.data_dir)
    from django.core.management import call_command

    call_command("createadmin", username=args.username, email=args.email)
    return 0


def cmd_load_strategy(args: argparse.Namespace) -> int:
    _setup(args.data_dir)
    from django.core.management import call_command
    from django.core.management.base import CommandError

    try:
        call_command("load_strategy", args.file)
    except CommandError as exc:
        print(f"csas load-strategy: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    _setup(args.data_dir)
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", deploy=args.deploy, fail_level="WARNING")
        call_command("migrate", check=True, plan=False, verbosity=0)
    except SystemCheckError as exc:
        print(exc, file=sys.stderr)
        return 1
    except SystemExit as exc:  # migrate --check exits 1 when migrations are unapplied
        if exc.code:
            print(
                "csas check: the database has unapplied migrations; run `csas manage migrate`",
                file=sys.stderr,
            )
            return 1
    print("csas check: configuration and database are in order.")
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    _setup(args.data_dir)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["csas manage", *args.rest])
    return 0


def cmd_insight_code(args: argparse.Namespace) -> int:
    """Code a CSV of comments to the strategy's goals (no database needed)."""
    from rich.console import Console

    from csas.analysis.insight.coding import code_csv

    console = Console(stderr=True)
    with console.status(f"Coding {args.input} ..."):
        try:
            summary = code_csv(args.input, args.text_column, args.output)
        except (ValueError, FileNotFoundError) as exc:
            console.print(f"[red]csas insight code:[/red] {exc}")
            return 1
    counts = ", ".join(f"{goal} {n}" for goal, n in summary.counts.items())
    console.print(f"Coded {summary.rows} rows ({summary.empty} empty) into {args.output}: {counts}")
    return 0


def cmd_safety_ingest(args: argparse.Namespace) -> int:
    """Normalise a calls-for-service / incident / 311 export, accounting for every row."""
    import duckdb
    from rich.console import Console

    from csas.analysis.safety.ingest import ingest
    from csas.analysis.safety.profiles import ProfileError

    console = Console(stderr=True)
    if _outputs_problem(
        console,
        "ingest",
        _output_problem(args.output, "--output"),
        _output_problem(args.report, "--report"),
    ):
        return 1
    with console.status("Reading ...") as status:
        try:
            report = ingest(
                args.input,
                profile=args.profile,
                output=args.output,
                memory_limit=args.memory_limit,
                progress=lambda step: status.update(f"{step} ..."),
            )
        except (ProfileError, ValueError, OSError, duckdb.Error) as exc:
            console.print(f"[red]csas safety ingest:[/red] {exc}", soft_wrap=True)
            return 1
    return 0 if _print_ingest_report(console, report, args.report) else 1


def _print_ingest_report(console: Console, report: IngestReport, json_path: str | None) -> bool:
    """Print an `IngestReport`'s account of the rows and its warnings; write it as JSON to
    `json_path`. False when the JSON file could not be written (said so)."""
    written = f" -> {report.output_path}" if report.output_path else ""
    console.print(
        f"{report.input_rows:,} rows read: {report.kept_rows:,} kept, "
        f"{report.rejected_rows:,} rejected, {report.duplicate_rows:,} duplicates{written}",
        soft_wrap=True,
    )
    for reason, count in sorted(report.rejected_by_reason.items()):
        first = report.samples_for(reason)[:1]
        example = ""
        if first:
            sample = first[0]
            where = f", column {sample.column}" if sample.column else ""
            found = f": {sample.value!r}" if sample.value is not None else ""
            example = f" (first: row {sample.row_number:,}{where}{found})"
        console.print(f"  rejected, {reason}: {count:,}{example}", soft_wrap=True)
    for reason, count in sorted(report.duplicates_by_reason.items()):
        console.print(f"  duplicate, {reason}: {count:,}")
    kept = [
        ("without a location", report.kept_without_coordinates),
        ("longitude and latitude swapped back", report.coordinates_swapped),
        ("outside the profile's bounding box", report.outside_bbox),
        ("local time in a repeated daylight-saving hour", report.dst_ambiguous),
        ("local time in a skipped daylight-saving hour", report.dst_nonexistent),
    ]
    for label, count in kept:
        if count:
            console.print(f"  kept, {label}: {count:,}")
    if report.initiated_by:
        started = ", ".join(f"{who} {n:,}" for who, n in report.initiated_by.items())
        console.print(f"  kept rows started by: {started}")
    for warning in report.warnings:
        console.print(f"[yellow]Warning:[/yellow] {warning}", soft_wrap=True)
    if json_path:
        try:
            Path(json_path).write_text(report.to_json(), encoding="utf-8")
        except OSError as exc:
            console.print(f"[red]The report was not written:[/red] {exc}", soft_wrap=True)
            return False
    return True


def _output_problem(path: str | None, what: str, *, folder: bool = False) -> str | None:
    """Why `path` cannot be written (a file, or with `folder` a folder that may be created),
    before any work is done; None when it can."""
    if not path:
        return None
    target = Path(path)
    if not folder and target.is_dir():
        return f"{what} {path} is a folder; give a file name"
    if folder and target.exists() and not target.is_dir():
        return f"{what} {path} is a file; give a folder"
    parent = target.resolve().parent
    if not parent.is_dir():
        return f"{what} {path}: the folder {parent} does not exist"
    return None


def _outputs_problem(console: Console, command: str, *checks: str | None) -> bool:
    """Print the first of `checks` that is a problem; True when there was one."""
    for problem in checks:
        if problem:
            console.print(f"[red]csas safety {command}:[/red] {problem}", soft_wrap=True)
            return True
    return False


def cmd_safety_synth(args: argparse.Namespace) -> int:
    """Write synthetic (made-up) Tacoma calls for service, labelled as such on every row."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from csas.analysis.safety.synthetic import (
        SYNTHETIC_PROFILE,
        OutputFormat,
        SyntheticError,
        generate_calls,
    )

    console = Console(stderr=True)
    parquet = args.output.lower().endswith((".parquet", ".pq"))
    fmt: OutputFormat = args.format or ("parquet" if parquet else "csv")
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("Generating synthetic calls", total=max(args.rows, 0))
        try:
            report = generate_calls(
                args.rows,
                seed=args.seed,
                year=args.year,
                out_path=args.output,
                fmt=fmt,
                bad_share=args.bad_rows,
                progress=lambda done, _total: bar.update(task, completed=done),
            )
        except (SyntheticError, OSError) as exc:
            console.print(f"[red]csas safety synth:[/red] {exc}", soft_wrap=True)
            return 1
    bad = sum(report.defects.values())
    console.print(
        f"Wrote {report.rows:,} SYNTHETIC calls (not real data; seed {report.seed}, year "
        f"{report.year}{f', {bad:,} deliberately bad rows' if bad else ''}) to {report.path} "
        f"in {report.seconds:.1f} s."
    )
    console.print(
        f"Next: csas safety ingest {report.path} --profile {SYNTHETIC_PROFILE} "
        "--output calls.parquet"
    )
    return 0


def cmd_safety_analyze(args: argparse.Namespace) -> int:
    """Analyse a normalised call table; write aggregate, suppressed CSV/JSON outputs only."""
    import duckdb
    from rich.console import Console

    from csas.analysis.safety.pipeline import PipelineError, analyze

    console = Console(stderr=True)
    if _outputs_problem(console, "analyze", _output_problem(args.out, "--out", folder=True)):
        return 1
    with console.status("Reading ...") as status:
        try:
            result = analyze(
                args.input,
                out_dir=args.out,
                progress=lambda step: status.update(f"{step.capitalize()} ..."),
                **_analysis_arguments(args),
            )
        except (PipelineError, ValueError, OSError, duckdb.Error) as exc:
            console.print(f"[red]csas safety analyze:[/red] {exc}", soft_wrap=True)
            return 1
    label = " (SYNTHETIC input)" if result.synthetic_rows else ""
    console.print(
        f"Analysed {result.calls:,} calls{label} in {result.seconds:.1f} s; wrote "
        f"{len(result.files)} files to {result.out_dir} (counts under {args.threshold} "
        "withheld). Next: csas safety report " + str(result.out_dir)
    )
    _print_analysis_warnings(console, result.summary)
    return 0


def cmd_safety_run(args: argparse.Namespace) -> int:
    """Ingest an export and analyse it in one go (no Parquet file in between by default)."""
    import duckdb
    from rich.console import Console

    from csas.analysis.safety.pipeline import PipelineError, run
    from csas.analysis.safety.profiles import ProfileError

    console = Console(stderr=True)
    if _outputs_problem(
        console,
        "run",
        _output_problem(args.out, "--out", folder=True),
        _output_problem(args.normalised, "--normalised"),
        _output_problem(args.report, "--report"),
    ):
        return 1
    with console.status("Reading ...") as status:
        try:
            result = run(
                args.input,
                profile=args.profile,
                out_dir=args.out,
                normalised=args.normalised,
                progress=lambda step: status.update(f"{step.capitalize()} ..."),
                **_analysis_arguments(args),
            )
        except (ProfileError, PipelineError, ValueError, OSError, duckdb.Error) as exc:
            console.print(f"[red]csas safety run:[/red] {exc}", soft_wrap=True)
            return 1
    analysis = result.analysis
    reported = _print_ingest_report(console, result.ingest, args.report)
    label = " (SYNTHETIC input)" if analysis.synthetic_rows else ""
    console.print(
        f"Analysed {analysis.calls:,} calls{label}; {analysis.seconds:.1f} s in all; wrote "
        f"{len(analysis.files)} files to {analysis.out_dir} (counts under {args.threshold} "
        "withheld). Next: csas safety report " + str(analysis.out_dir),
        soft_wrap=True,
    )
    _print_analysis_warnings(console, analysis.summary)
    return 0 if reported else 1


def _print_analysis_warnings(console: Console, summary: Mapping[str, Any]) -> None:
    """Say so when no call fell in the city's areas (the analysis is of Tacoma's map)."""
    placed = summary.get("geography", {}).get("block_group", {})
    calls = summary.get("input", {}).get("calls")
    if calls and not placed.get("assigned"):
        console.print(
            "[yellow]Warning:[/yellow] no call (or fewer than the threshold) lies in one of "
            "Tacoma's block groups: the analysis places calls on Tacoma's map only, so the "
            "rates, hot spots and district figures are empty for another city's calls.",
            soft_wrap=True,
        )


def cmd_safety_report(args: argparse.Namespace) -> int:
    """Summarise an analyze output folder in the terminal and as report.md / report.html."""
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table

    from csas.analysis.safety.pipeline import PipelineError, write_report

    errors = Console(stderr=True)
    try:
        report = write_report(args.folder)
    except (PipelineError, OSError) as exc:
        errors.print(f"[red]csas safety report:[/red] {exc}", soft_wrap=True)
        return 1
    console = Console()
    if report.summary.get("synthetic"):
        console.print(
            Panel(
                "SYNTHETIC DATA: made-up calls, not real Tacoma calls for service.",
                style="bold red",
            )
        )
    for section in report.sections:
        table = Table(title=section.title, title_justify="left")
        for heading in section.header:
            table.add_column(heading)
        for row in section.rows:
            table.add_row(*row)
        console.print(table)
    console.print(f"Report written to {report.markdown_path} and {report.html_path}")
    return 0


def _analysis_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The values of `_analysis_options`, as `analyze` and `run` take them (the taxonomy
    loaded from the city's files; `TaxonomyError` names a bad one)."""
    names = ("threshold", "seed", "n_boot", "permutations", "city", "timezone", "memory_limit")
    given = {name: getattr(args, name) for name in names}
    if given["timezone"] is None:
        del given["timezone"]  # the library's default (run: the profile's zone)
    return given | {"taxonomy": _taxonomy(args)}


def _taxonomy(args: argparse.Namespace) -> Any:
    """The taxonomy of `_taxonomy_options`: the city's files where given, else None
    (csas's defaults)."""
    from csas.analysis.safety.taxonomy import load_taxonomy

    files = {
        "crosswalk": args.crosswalk,
        "category_tiers": args.category_tiers,
        "screening_rules": args.screening_rules,
    }
    if not any(files.values()):
        return None
    return load_taxonomy(**files)


def _taxonomy_options(command: argparse.ArgumentParser) -> None:
    """A city's own call-type files in place of csas's defaults (docs/safety-profiles.md)."""
    command.add_argument(
        "--crosswalk", metavar="CSV", help="The city's call-type crosswalk (call type -> category)."
    )
    command.add_argument(
        "--category-tiers", metavar="CSV", help="The city's category -> response tier table."
    )
    command.add_argument(
        "--screening-rules", metavar="YAML", help="The city's screening keyword rules."
    )


def cmd_safety_call_types(args: argparse.Namespace) -> int:
    """List every call type of a normalised table with its calls and classification."""
    import contextlib
    import csv

    import duckdb
    from rich.console import Console
    from rich.table import Table

    from csas.analysis.safety.taxonomy import CallTypeReview, TaxonomyError, review_call_types

    console = Console(stderr=True)
    if _outputs_problem(console, "call-types", _output_problem(args.out, "--out")):
        return 1
    try:
        taxonomy = _taxonomy(args)
        with contextlib.closing(duckdb.connect(":memory:")) as con:
            path = str(args.input).replace("'", "''")
            try:
                con.execute(f"CREATE VIEW calls AS SELECT * FROM read_parquet('{path}')")  # noqa: S608
            except duckdb.Error as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                raise ValueError(
                    f"{args.input}: not a Parquet file ({first}); give the normalised table "
                    "that csas safety ingest (or run --normalised) writes"
                ) from None
            rows = review_call_types(con, "calls", taxonomy=taxonomy, city=args.city)
    except (TaxonomyError, ValueError, OSError, duckdb.Error) as exc:
        console.print(f"[red]csas safety call-types:[/red] {exc}", soft_wrap=True)
        return 1
    out = Path(args.out)
    temporary = out.with_name(out.name + ".part")
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(CallTypeReview.HEADER)
            writer.writerows(row.cells() for row in rows)
        temporary.replace(out)
    except OSError as exc:
        console.print(f"[red]csas safety call-types:[/red] {exc}", soft_wrap=True)
        return 1
    unmapped = [row for row in rows if row.status != "mapped"]
    calls = sum(row.calls for row in rows)
    left = sum(row.calls for row in unmapped)
    share = f" ({left / calls:.1%})" if calls else ""
    table = Table(title="Call types to map (commonest first)", title_justify="left")
    for heading in ("call type", "calls", "why"):
        table.add_column(heading)
    for row in unmapped[:15]:
        table.add_row(row.call_type or "(none)", f"{row.calls:,}", row.status)
    if unmapped:
        Console().print(table)
    console.print(
        f"{len(rows):,} call types in {calls:,} calls; {len(unmapped):,} unmapped, covering "
        f"{left:,} calls{share}. Wrote {out} (it names call types: for staff, not for "
        "publication). To map them, copy the crosswalk and tier files, add rows, and pass "
        "them to `csas safety analyze` or `run` with --crosswalk and --category-tiers "
        "(docs/safety-profiles.md).",
        soft_wrap=True,
    )
    return 0


def _analysis_options(command: argparse.ArgumentParser) -> None:
    """The options `safety analyze` and `safety run` share."""
    command.add_argument("--threshold", type=int, default=10, help="Withhold counts under this.")
    command.add_argument("--seed", type=int, default=0, help="Bootstrap/permutation seed.")
    command.add_argument("--n-boot", type=int, default=200, help="Response-time resamples.")
    command.add_argument(
        "--permutations", type=int, default=9999, help="Gi* permutations per block group."
    )
    command.add_argument(
        "--city", help="Match call types to this city's crosswalk only (e.g. Seattle)."
    )
    command.add_argument(
        "--timezone",
        default=None,
        help="IANA zone of the months, weekdays and hours (default: the profile's for run, "
        "America/Los_Angeles for analyze).",
    )
    command.add_argument("--memory-limit", default="2GB")
    _taxonomy_options(command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="csas", description=__doc__)
    parser.add_argument("--data-dir", help="Data folder (default: $CSAS_DATA_DIR or ./var).")
    verbs = parser.add_subparsers(dest="verb", required=True)

    demo = verbs.add_parser("demo", help="Set up the Tacoma demo and serve it locally.")
    demo.add_argument("--port", type=int, default=8000)
    demo.set_defaults(func=cmd_demo)

    serve = verbs.add_parser("serve", help="Serve with gunicorn (production style).")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=3)
    serve.add_argument("--migrate", action="store_true", help="Apply migrations first.")
    serve.set_defaults(func=cmd_serve)

    admin = verbs.add_parser("createadmin", help="Create an administrator account.")
    admin.add_argument("--username", default="admin")
    admin.add_argument("--email", default="")
    admin.set_defaults(func=cmd_createadmin)

    load = verbs.add_parser("load-strategy", help="Load a strategy file (all or nothing).")
    load.add_argument("file")
    load.set_defaults(func=cmd_load_strategy)

    check = verbs.add_parser("check", help="Check configuration and migrations.")
    check.add_argument("--deploy", action="store_true", help="Also run production checks.")
    check.set_defaults(func=cmd_check)

    insight = verbs.add_parser("insight", help="Analyse comments and answers.")
    insight_verbs = insight.add_subparsers(dest="insight_verb", required=True)
    code = insight_verbs.add_parser("code", help="Code a CSV of comments to the goals.")
    code.add_argument("--input", required=True, help="CSV file with one comment per row.")
    code.add_argument("--text-column", required=True, help="Column holding the comment.")
    code.add_argument("--output", required=True, help="CSV to write (input + goals, confidence).")
    code.set_defaults(func=cmd_insight_code)

    safety = verbs.add_parser("safety", help="Safety data lab.")
    safety_verbs = safety.add_subparsers(dest="safety_verb", required=True)
    ingest = safety_verbs.add_parser("ingest", help="Normalise a CAD/incident/311 export.")
    ingest.add_argument("input", help="CSV, Parquet or GeoJSON file.")
    ingest.add_argument(
        "--profile",
        required=True,
        help="Shipped profile name or a profile file (docs/safety-profiles.md).",
    )
    ingest.add_argument("--output", required=True, help="Parquet file to write.")
    ingest.add_argument("--report", help="Also write the validation report as JSON here.")
    ingest.add_argument("--memory-limit", default="2GB")
    ingest.set_defaults(func=cmd_safety_ingest)

    synth = safety_verbs.add_parser(
        "synth", help="Write SYNTHETIC Tacoma calls for service (made up, labelled as such)."
    )
    synth.add_argument("output", metavar="OUT", help="CSV or Parquet file to write.")
    synth.add_argument("--rows", type=int, required=True, help="Calls to write.")
    synth.add_argument("--seed", type=int, required=True, help="Same seed, same file.")
    synth.add_argument("--year", type=int, required=True, help="Calendar year of the calls.")
    synth.add_argument(
        "--format", choices=["csv", "parquet"], help="Default: from OUT's extension (csv)."
    )
    synth.add_argument(
        "--bad-rows",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="Share of deliberately bad rows, 0 to 0.5, for testing validation (default 0).",
    )
    synth.set_defaults(func=cmd_safety_synth)

    analyze = safety_verbs.add_parser(
        "analyze", help="Analyse a normalised call table; write aggregates only."
    )
    analyze.add_argument("input", metavar="NORMALISED_FILE", help="Parquet from `safety ingest`.")
    analyze.add_argument("--out", required=True, metavar="DIR", help="Folder for the outputs.")
    _analysis_options(analyze)
    analyze.set_defaults(func=cmd_safety_analyze)

    run = safety_verbs.add_parser(
        "run",
        help="Ingest an export and analyse it in one go (ingest + analyze, no file between).",
    )
    run.add_argument("input", help="CSV, Parquet or GeoJSON file.")
    run.add_argument(
        "--profile",
        required=True,
        help="Shipped profile name or a profile file (docs/safety-profiles.md).",
    )
    run.add_argument("--out", required=True, metavar="DIR", help="Folder for the outputs.")
    run.add_argument(
        "--normalised", metavar="FILE", help="Also write the normalised Parquet file here."
    )
    run.add_argument("--report", help="Also write the validation report as JSON here.")
    _analysis_options(run)
    run.set_defaults(func=cmd_safety_run)

    call_types = safety_verbs.add_parser(
        "call-types",
        help="List every call type with its calls and classification, unmapped first (for "
        "staff to map).",
    )
    call_types.add_argument(
        "input", metavar="NORMALISED_FILE", help="Parquet from `safety ingest`."
    )
    call_types.add_argument("--out", required=True, metavar="CSV", help="CSV file to write.")
    call_types.add_argument(
        "--city", help="Match call types to this city's crosswalk only (e.g. Seattle)."
    )
    _taxonomy_options(call_types)
    call_types.set_defaults(func=cmd_safety_call_types)

    report = safety_verbs.add_parser(
        "report", help="Summarise an analyze folder; write report.md and report.html."
    )
    report.add_argument("folder", metavar="DIR", help="The folder `safety analyze` wrote.")
    report.set_defaults(func=cmd_safety_report)

    manage = verbs.add_parser("manage", help="Run any Django management command.")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())

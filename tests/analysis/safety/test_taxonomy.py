"""Call-type taxonomy: crosswalk, tiers, screening flags, initiation, eligibility range."""

from __future__ import annotations

import csv
import dataclasses
import doctest
import hashlib
import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from csas.analysis.safety import taxonomy as taxonomy_module
from csas.analysis.safety.ingest import ingest
from csas.analysis.safety.taxonomy import (
    TIERS,
    Taxonomy,
    TaxonomyError,
    call_type_key,
    classify_calls,
    eligibility_range,
    eligibility_range_from_counts,
    initiation_of,
    initiation_split,
    initiation_split_from_counts,
    load_crosswalk,
    load_screening_rules,
    load_self_initiated,
    load_taxonomy,
    load_tier_rules,
    unmapped_call_types,
)

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "src" / "csas" / "data" / "safety"
SCRIPT = ROOT / "scripts" / "build_call_type_crosswalk.py"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def calls_table(con: duckdb.DuckDBPyConnection, rows: list[tuple[Any, ...]]) -> str:
    """A small normalised-style table: (call_type, initiated_by, initiated_raw)."""
    con.execute(
        "CREATE OR REPLACE TABLE calls "
        "(call_type VARCHAR, final_call_type VARCHAR, initiated_by VARCHAR, initiated_raw VARCHAR)"
    )
    if rows:
        con.executemany("INSERT INTO calls VALUES (?, NULL, ?, ?)", [list(r) for r in rows])
    return "calls"


# -- the shipped data ------------------------------------------------------------------------


def test_the_vendored_workbook_is_the_one_its_source_note_names() -> None:
    workbook = DATA / "vera" / "CallTypes_TS.xlsx"
    digest = hashlib.sha256(workbook.read_bytes()).hexdigest()
    assert digest in (DATA / "vera" / "SOURCE.md").read_text(encoding="utf-8")
    assert "MIT License" in (DATA / "vera" / "LICENSE").read_text(encoding="utf-8")


def test_the_crosswalk_rebuilds_byte_for_byte_from_the_workbook(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for name in ("call_type_crosswalk.csv", "self_initiated.csv"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes()


def test_the_build_script_check_mode_fails_on_a_stale_file(tmp_path: Path) -> None:
    (tmp_path / "call_type_crosswalk.csv").write_text("stale\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1
    assert "stale: call_type_crosswalk.csv, self_initiated.csv" in result.stdout


def test_the_build_script_and_the_library_make_the_same_keys() -> None:
    spec = importlib.util.spec_from_file_location("build_crosswalk", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    for text in ["--ASLT - IP/JO - DV", "Patrol Request", "THEFT OF PROP > OR EQUAL\xa0100", ""]:
        assert script.call_type_key(text) == call_type_key(text)


def test_the_default_crosswalk_has_every_vera_call_type(taxonomy: Taxonomy) -> None:
    assert len(taxonomy.entries) == 3227
    assert taxonomy.cities == ("Charleston", "Dallas", "Detroit", "New Orleans", "Seattle")
    by_city = {c: sum(1 for e in taxonomy.entries if e.city == c) for c in taxonomy.cities}
    assert by_city == {
        "Charleston": 651,
        "Dallas": 1113,
        "Detroit": 258,
        "New Orleans": 479,
        "Seattle": 726,
    }


def test_every_crosswalk_category_has_a_tier_with_a_rationale(taxonomy: Taxonomy) -> None:
    categories = {e.category for e in taxonomy.entries if e.category}
    assert categories <= set(taxonomy.tier_rules)
    assert all(rule.rationale.strip() for rule in taxonomy.tier_rules.values())
    assert {rule.tier for rule in taxonomy.tier_rules.values()} == set(TIERS)


def test_the_crosswalk_marks_every_csas_override_with_its_reason() -> None:
    with (DATA / "call_type_crosswalk.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    overridden = [r for r in rows if r["category_source"] == "csas-override"]
    assert overridden
    assert all(r["override_rationale"] for r in overridden)
    assert all(not r["override_rationale"] for r in rows if r["category_source"] != "csas-override")


def test_vera_category_spellings_are_merged(taxonomy: Taxonomy) -> None:
    categories = {e.category for e in taxonomy.entries if e.category}
    assert "Assist the Public" not in categories
    assert "Call Related Isuues" not in categories
    assert all(c == c.strip() for c in categories)


# -- classifying one call type ---------------------------------------------------------------


def test_classify_matches_a_call_type_despite_punctuation(taxonomy: Taxonomy) -> None:
    found = taxonomy.classify("SUSPICIOUS PERSON, VEHICLE, OR INCIDENT", city="Seattle")
    assert (found.category, found.tier, found.match) == ("Suspicion", "co-response", "exact")


def test_classify_matches_a_truncated_vera_type_as_a_prefix(taxonomy: Taxonomy) -> None:
    found = taxonomy.classify("ASSIST PUBLIC - NO WELFARE CHK OR DV ORDER SERVICE", city="Seattle")
    assert (found.category, found.match) == ("Assisting the Public", "prefix")
    assert found.entry is not None
    assert found.entry.truncated


def test_classify_an_unknown_type_as_unmapped_and_not_assessed(taxonomy: Taxonomy) -> None:
    found = taxonomy.classify("DRONE SIGHTING", city="Seattle")
    assert (found.category, found.tier, found.match, found.entry) == (
        None,
        "not-assessed",
        "none",
        None,
    )


def test_classify_a_missing_call_type_as_unmapped(taxonomy: Taxonomy) -> None:
    assert taxonomy.classify(None).match == "none"


def test_classify_a_type_vera_left_undecided_as_not_assessed(taxonomy: Taxonomy) -> None:
    found = taxonomy.classify("Walk and Talk", city="Charleston")
    assert found.match == "exact"
    assert (found.category, found.tier) == (None, "not-assessed")


def test_classify_for_a_city_missing_from_the_crosswalk_names_the_cities(
    taxonomy: Taxonomy,
) -> None:
    with pytest.raises(ValueError, match=r"no call types for city 'Tacoma'.*Seattle"):
        taxonomy.classify("TRESPASS", city="Tacoma")


def test_classify_restricted_to_a_city_ignores_other_cities_types(taxonomy: Taxonomy) -> None:
    assert taxonomy.classify("Patrol Request", city="Seattle").match == "none"
    assert taxonomy.classify("Patrol Request").category == "Assisting the Public"
    assert taxonomy.classify("patrol request", city="charleston").match == "exact"


def test_classify_follows_the_csas_overrides(taxonomy: Taxonomy) -> None:
    welfare = taxonomy.classify("SERVICE - WELFARE CHECK", city="Seattle")
    assert welfare.entry is not None
    assert welfare.entry.category_source == "csas-override"
    assert welfare.tier == "community-only"


@pytest.mark.parametrize(
    ("call_type", "flags"),
    [
        ("ASLT - IP/JO - WITH OR W/O WPNS (NO SHOOTINGS)", {"weapon", "violence", "in_progress"}),
        ("FIGHT - VERBAL/ORAL (NO WEAPONS)", {"violence"}),
        ("WEAPN-IP/JO-GUN,DEADLY WPN (NO THRT/ASLT/DIST)", {"weapon", "in_progress"}),
        ("MVC - WITH INJURIES (INCLUDES HIT AND RUN)", {"injury"}),
        ("MVC - REPORT, NON INJ/NON BLKG OR AFTER FACT INJ", set()),
        ("HARAS - NO BIAS, THREATS OR MALICIOUSNESS", set()),
        ("ASSIST PUBLIC - NO WELFARE CHK OR DV ORDER SERVICE", set()),
        ("PERSON IN BEHAVIORAL/EMOTIONAL CRISIS", set()),
        ("SHOTS - IP/JO - INCLUDES HEARD/NO ASSAULT", {"weapon", "in_progress"}),
        ("NOISE - DISTURBANCE (PARTY, ETC)", set()),
    ],
)
def test_screening_flags_follow_the_keyword_rules(
    taxonomy: Taxonomy, call_type: str, flags: set[str]
) -> None:
    found = taxonomy.classify(call_type)
    raised = {f for f in ("weapon", "violence", "injury", "in_progress") if getattr(found, f)}
    assert raised == flags
    assert found.screened_out == bool(flags)


def test_a_city_crosswalk_can_set_a_call_types_tier_directly(tmp_path: Path) -> None:
    crosswalk = tmp_path / "tacoma.csv"
    crosswalk.write_text(
        "city,source_column,call_type,calls,category,tier_override\n"
        "Tacoma,Description,Simple Assault,10,Violent Crime,\n"
        "Tacoma,Description,Welfare Check,5,Assisting the Public,community-led\n",
        encoding="utf-8",
    )
    taxonomy = load_taxonomy(crosswalk=crosswalk)
    assert taxonomy.classify("Simple Assault", city="Tacoma").tier == "police"
    assert taxonomy.classify("WELFARE CHECK", city="Tacoma").tier == "community-led"


# -- malformed taxonomy files ----------------------------------------------------------------


def test_a_tier_table_with_an_unknown_tier_names_the_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "tiers.csv"
    path.write_text("category,tier,rationale\nFire,firefighters,why\n", encoding="utf-8")
    with pytest.raises(
        TaxonomyError, match=r"tiers.csv, row 2, column tier: tier 'firefighters' is not one of"
    ):
        load_tier_rules(path)


def test_a_tier_table_without_a_rationale_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tiers.csv"
    path.write_text("category,tier,rationale\nFire,police,\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="row 2, column rationale"):
        load_tier_rules(path)


def test_a_tier_table_naming_a_category_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tiers.csv"
    path.write_text("category,tier,rationale\nFire,police,a\nFire,co-response,b\n", "utf-8")
    with pytest.raises(TaxonomyError, match="row 3, column category: 'Fire' appears twice"):
        load_tier_rules(path)


def test_a_tier_table_missing_a_crosswalk_category_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tiers.csv"
    path.write_text("category,tier,rationale\nFire,police,a\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"tiers.csv: no tier for the crosswalk's categories"):
        load_taxonomy(category_tiers=path)


def test_a_tier_table_missing_a_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tiers.csv"
    path.write_text("category,tier\nFire,police\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"missing column\(s\) \['rationale'\]"):
        load_tier_rules(path)


def test_a_crosswalk_with_a_non_numeric_count_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "crosswalk.csv"
    path.write_text(
        "city,source_column,call_type,calls,category\nTacoma,D,Theft,many,Property Crime\n",
        encoding="utf-8",
    )
    with pytest.raises(TaxonomyError, match=r"crosswalk.csv, row 2, column calls: 'many'"):
        load_crosswalk(path)


def test_a_crosswalk_with_an_empty_call_type_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "crosswalk.csv"
    path.write_text("city,source_column,call_type,calls,category\nTacoma,D,,1,Fire\n", "utf-8")
    with pytest.raises(TaxonomyError, match="row 2, column call_type: empty"):
        load_crosswalk(path)


def test_a_crosswalk_with_an_unknown_tier_override_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "crosswalk.csv"
    path.write_text(
        "city,source_column,call_type,calls,category,tier_override\nT,D,Theft,1,Fire,maybe\n",
        encoding="utf-8",
    )
    with pytest.raises(TaxonomyError, match="row 2, column tier_override: tier 'maybe'"):
        load_crosswalk(path)


def test_a_missing_crosswalk_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="file not found"):
        load_crosswalk(tmp_path / "nothing.csv")


def test_screening_rules_with_a_bad_pattern_name_the_flag_and_index(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("flags:\n  weapon:\n    patterns: ['GUN', '(unclosed']\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"flags.weapon.patterns\[1\]: '\(unclosed'"):
        load_screening_rules(path)


def test_screening_rules_with_an_unknown_flag_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("flags:\n  sirens:\n    patterns: ['SIREN']\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"flags.sirens: unknown flag"):
        load_screening_rules(path)


def test_screening_rules_without_patterns_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("flags:\n  weapon:\n    description: guns\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"flags.weapon: expected `patterns:`"):
        load_screening_rules(path)


def test_screening_rules_that_are_not_a_mapping_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("- weapon\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="expected a mapping `flags:`"):
        load_screening_rules(path)


def test_a_self_initiated_table_with_a_bad_answer_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "self.csv"
    path.write_text("city,source_column,value,self_initiated\nX,C,ONVIEW,maybe\n", "utf-8")
    with pytest.raises(TaxonomyError, match="row 2, column self_initiated: expected yes or no"):
        load_self_initiated(path)


# -- calls in DuckDB -------------------------------------------------------------------------


def test_classify_calls_adds_category_tier_flags_and_initiation(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        table = calls_table(
            con,
            [
                ("SERVICE - WELFARE CHECK", "public", "911"),
                ("FIGHT - IP - PHYSICAL (NO WEAPONS)", "public", "911"),
                ("DRONE SIGHTING", "officer", "ONVIEW"),
                (None, "unknown", None),
            ],
        )
        result = classify_calls(con, table, taxonomy=taxonomy, city="Seattle")
        got = con.execute(
            "SELECT call_type, category, tier, taxonomy_match, violence, screened_out, initiation "
            "FROM classified_calls ORDER BY call_type NULLS LAST"
        ).fetchall()
    assert got == [
        ("DRONE SIGHTING", None, "not-assessed", "none", False, False, "officer"),
        (
            "FIGHT - IP - PHYSICAL (NO WEAPONS)",
            "Other Crimes",
            "police",
            "exact",
            True,
            True,
            "public",
        ),
        (
            "SERVICE - WELFARE CHECK",
            "Assisting the Public",
            "community-only",
            "exact",
            False,
            False,
            "public",
        ),
        (None, None, "not-assessed", "none", False, False, "unknown"),
    ]
    assert (result.calls, result.call_types, result.unmapped_types, result.calls_unmapped) == (
        4,
        4,
        2,
        2,
    )
    assert dict(result.calls_by_tier) == {
        "community-only": 1,
        "community-led": 0,
        "co-response": 0,
        "police": 1,
        "not-assessed": 2,
    }


def test_classify_calls_leaves_the_input_table_unchanged(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        table = calls_table(con, [("TRESPASS", "public", "911")])
        before = con.execute("DESCRIBE calls").fetchall()
        classify_calls(con, table, taxonomy=taxonomy, into="out")
        assert con.execute("DESCRIBE calls").fetchall() == before


def test_classify_calls_resolves_unknown_initiation_with_the_vera_mapping(
    taxonomy: Taxonomy,
) -> None:
    with duckdb.connect() as con:
        table = calls_table(
            con,
            [
                ("TRESPASS", "unknown", "Y"),
                ("TRESPASS", "unknown", "N"),
                ("TRESPASS", "unknown", "?"),
            ],
        )
        classify_calls(con, table, taxonomy=taxonomy, city="New Orleans")
        got = con.execute(
            "SELECT initiated_raw, initiation, initiation_source FROM classified_calls "
            "ORDER BY initiated_raw"
        ).fetchall()
    assert got == [("?", "unknown", "unknown"), ("N", "public", "vera"), ("Y", "officer", "vera")]


def test_classify_calls_on_final_call_type_uses_that_column(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE calls AS SELECT 'X' AS call_type, '--DISTURBANCE - NOISE' AS "
            "final_call_type, 'public' AS initiated_by, '911' AS initiated_raw"
        )
        classify_calls(con, "calls", taxonomy=taxonomy, type_field="final_call_type")
        (row,) = con.execute("SELECT category FROM classified_calls").fetchall()
    assert row == ("Complaints/Environmental Conditions",)


def test_classify_calls_on_a_table_missing_columns_names_them(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        con.execute("CREATE TABLE calls AS SELECT 'A' AS call_type")
        with pytest.raises(
            ValueError, match=r"lacks column\(s\) \['initiated_by', 'initiated_raw'\]"
        ):
            classify_calls(con, "calls", taxonomy=taxonomy)


def test_classify_calls_on_a_missing_table_says_so(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con, pytest.raises(ValueError, match="no table or view named 'nope'"):
        classify_calls(con, "nope", taxonomy=taxonomy)


def test_classify_calls_refuses_to_write_over_its_input(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        table = calls_table(con, [("TRESPASS", "public", "911")])
        with pytest.raises(ValueError, match="into must differ from table"):
            classify_calls(con, table, taxonomy=taxonomy, into=table)


def test_classify_calls_refuses_an_unknown_type_field(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        table = calls_table(con, [("TRESPASS", "public", "911")])
        with pytest.raises(ValueError, match="type_field must be one of"):
            classify_calls(con, table, taxonomy=taxonomy, type_field="nature")  # type: ignore[arg-type]


def test_classify_calls_quotes_table_names(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE \"odd name; DROP TABLE x\" AS SELECT 'TRESPASS' AS call_type, "
            "NULL AS final_call_type, 'public' AS initiated_by, '911' AS initiated_raw"
        )
        result = classify_calls(
            con, "odd name; DROP TABLE x", taxonomy=taxonomy, into='out "quoted"'
        )
        assert result.calls == 1
        assert con.execute('SELECT count(*) FROM "out ""quoted"""').fetchone() == (1,)


def test_unmapped_call_types_are_listed_commonest_first(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        table = calls_table(
            con,
            [
                ("DRONE SIGHTING", "public", "911"),
                ("DRONE SIGHTING", "public", "911"),
                ("Walk and Talk", "public", "911"),
                ("AARDVARK LOOSE", "public", "911"),
                ("TRESPASS", "public", "911"),
                (None, "public", "911"),
            ],
        )
        found = unmapped_call_types(con, table, taxonomy=taxonomy)
    assert [(u.call_type, u.calls, u.reason) for u in found] == [
        ("DRONE SIGHTING", 2, "not in crosswalk"),
        (None, 1, "no call type"),
        ("AARDVARK LOOSE", 1, "not in crosswalk"),
        ("Walk and Talk", 1, "no category"),
    ]


def test_initiation_split_counts_officer_public_and_unknown(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        table = calls_table(
            con,
            [
                ("A", "officer", "ONVIEW"),
                ("A", "public", "911"),
                ("A", "public", "911"),
                ("A", "unknown", "Y"),
                ("A", "unknown", "CARRIER PIGEON"),
            ],
        )
        split = initiation_split(con, table, taxonomy=taxonomy)
    assert (split.n, split.officer, split.public, split.unknown) == (5, 2, 2, 1)
    assert split.resolved_with_vera == 1
    assert split.officer_share == pytest.approx(0.4)
    assert "SelfInitiated" in split.method


def test_initiation_split_of_an_empty_table_has_no_shares(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        table = calls_table(con, [])
        split = initiation_split(con, table, taxonomy=taxonomy)
    assert (split.n, split.officer_share, split.public_share) == (0, None, None)


def eligibility_table(con: duckdb.DuckDBPyConnection, taxonomy: Taxonomy) -> str:
    table = calls_table(
        con,
        [
            ("SERVICE - WELFARE CHECK", "public", "911"),  # community-only, clean
            ("PERSON IN BEHAVIORAL/EMOTIONAL CRISIS", "public", "911"),  # community-led
            ("SUICIDE - IP/JO SUICIDAL PERSON AND ATTEMPTS", "public", "911"),  # led, in progress
            ("FIGHT - IP - PHYSICAL (NO WEAPONS)", "public", "911"),  # police
            ("DRONE SIGHTING", "public", "911"),  # not assessed
            ("SERVICE - WELFARE CHECK", "officer", "ONVIEW"),  # officer: left out
            ("SERVICE - WELFARE CHECK", "unknown", "CARRIER PIGEON"),  # unknown: left out
            ("SUSPICIOUS PERSON, VEHICLE OR INCIDENT", "public", "911"),  # co-response
        ],
    )
    classify_calls(con, table, taxonomy=taxonomy, city="Seattle")
    return "classified_calls"


def test_eligibility_range_gives_shares_by_type_and_after_screening(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        result = eligibility_range(con, eligibility_table(con, taxonomy))
    assert result.n == 6
    assert (result.eligible_by_type, result.eligible_after_screening) == (3, 2)
    assert result.share_by_type == pytest.approx(3 / 6)
    assert result.share_after_screening == pytest.approx(2 / 6)
    assert (result.low, result.high) == (result.share_after_screening, result.share_by_type)
    assert result.not_assessed == 1
    assert (result.left_out_officer, result.left_out_unknown) == (1, 1)


def test_eligibility_range_can_count_co_response_as_eligible(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        result = eligibility_range(
            con,
            eligibility_table(con, taxonomy),
            eligible_tiers=("community-only", "community-led", "co-response"),
        )
    assert (result.eligible_by_type, result.eligible_after_screening) == (4, 3)


def test_eligibility_range_over_all_calls_includes_officer_initiated_ones(
    taxonomy: Taxonomy,
) -> None:
    with duckdb.connect() as con:
        result = eligibility_range(con, eligibility_table(con, taxonomy), population="all")
    assert (result.n, result.eligible_by_type, result.left_out_officer) == (8, 5, 0)


def test_eligibility_range_is_never_wider_than_by_type(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        table = eligibility_table(con, taxonomy)
        for population in ("public", "public_and_unknown", "all"):
            result = eligibility_range(con, table, population=population)
            assert result.eligible_after_screening <= result.eligible_by_type <= result.n


def test_eligibility_range_rule_states_the_population_and_tiers(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        result = eligibility_range(con, eligibility_table(con, taxonomy))
    assert "calls started by the public" in result.rule
    assert "community-only or community-led" in result.rule
    assert "mentions a weapon; violence or a threat;" in result.rule
    assert "n = 6" in result.rule


def test_eligibility_range_of_an_empty_population_has_no_shares(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        table = calls_table(con, [("TRESPASS", "officer", "ONVIEW")])
        classify_calls(con, table, taxonomy=taxonomy)
        result = eligibility_range(con, "classified_calls")
    assert (result.n, result.share_by_type, result.share_after_screening) == (0, None, None)


def test_eligibility_range_of_an_empty_table_has_no_shares(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        table = calls_table(con, [])
        classify_calls(con, table, taxonomy=taxonomy)
        result = eligibility_range(con, "classified_calls")
    assert (result.n, result.eligible_by_type, result.share_by_type) == (0, 0, None)


def test_the_taxonomy_functions_leave_the_connection_ready_for_more(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        table = calls_table(con, [("TRESPASS", "public", "911")])
        classify_calls(con, table, taxonomy=taxonomy)
        assert con.sql("SELECT count(*) FROM classified_calls").fetchall() == [(1,)]
        eligibility_range(con, "classified_calls")
        initiation_split(con, table, taxonomy=taxonomy)
        unmapped_call_types(con, table, taxonomy=taxonomy)
        assert con.sql("SELECT 1").fetchall() == [(1,)]


def test_eligibility_range_refuses_not_assessed_as_an_eligible_tier(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        table = eligibility_table(con, taxonomy)
        with pytest.raises(ValueError, match="'not-assessed' cannot be eligible"):
            eligibility_range(con, table, eligible_tiers=("not-assessed",))


def test_eligibility_range_refuses_an_unknown_tier_or_population(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        table = eligibility_table(con, taxonomy)
        with pytest.raises(ValueError, match="eligible_tiers must be"):
            eligibility_range(con, table, eligible_tiers=("volunteers",))  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="eligible_tiers must be"):
            eligibility_range(con, table, eligible_tiers=())
        with pytest.raises(ValueError, match="population must be one of"):
            eligibility_range(con, table, population="residents")  # type: ignore[arg-type]


def test_eligibility_range_needs_a_classified_table(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        table = calls_table(con, [("TRESPASS", "public", "911")])
        with pytest.raises(
            ValueError, match=r"lacks column\(s\) \['initiation', 'screened_out', 'tier'\]"
        ):
            eligibility_range(con, table)


@pytest.mark.parametrize("population", ["public", "public_and_unknown", "all"])
@pytest.mark.parametrize(
    "tiers", [("community-only", "community-led"), ("community-led", "co-response", "police")]
)
def test_eligibility_range_from_counts_equals_the_table_version(
    taxonomy: Taxonomy, population: Any, tiers: Any
) -> None:
    with duckdb.connect() as con:
        table = eligibility_table(con, taxonomy)
        expected = eligibility_range(con, table, eligible_tiers=tiers, population=population)
        counts = con.execute(
            "SELECT initiation, tier, screened_out, count(*) FROM classified_calls GROUP BY ALL"
        ).fetchall()
    # Split each combination's calls over two items: they must add up.
    halves = [(i, t, s, n // 2) for i, t, s, n in counts] + [
        (i, t, s, n - n // 2) for i, t, s, n in counts
    ]
    found = eligibility_range_from_counts(halves, eligible_tiers=tiers, population=population)
    assert found == expected


def test_eligibility_range_from_counts_reads_missing_values_as_sql_does(
    taxonomy: Taxonomy,
) -> None:
    rows = [
        ("public", "community-only", False, 5),
        ("public", "community-only", None, 7),  # eligible by type, never after screening
        ("public", None, False, 11),  # in the population, in no tier
        (None, "community-only", False, 13),  # in no population, left out of nothing
        ("unknown", "not-assessed", False, 17),
        ("officer", "police", True, 19),
    ]
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE classified (initiation VARCHAR, tier VARCHAR, screened_out BOOLEAN)"
        )
        for initiation, tier, screened_out, n in rows:
            con.executemany(
                "INSERT INTO classified VALUES (?, ?, ?)", [[initiation, tier, screened_out]] * n
            )
        for population in ("public", "public_and_unknown", "all"):
            expected = eligibility_range(con, "classified", population=population)
            found = eligibility_range_from_counts(rows, population=population)
            assert found == expected
    assert found.n == 5 + 7 + 11 + 17 + 19


def test_eligibility_range_from_counts_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="'not-assessed' cannot be eligible"):
        eligibility_range_from_counts([], eligible_tiers=("not-assessed",))
    with pytest.raises(ValueError, match="population must be one of"):
        eligibility_range_from_counts([], population="residents")  # type: ignore[arg-type]


def test_initiation_split_from_counts_equals_the_table_version(taxonomy: Taxonomy) -> None:
    rows = [
        ("A", "officer", "ONVIEW"),
        ("A", "public", "911"),
        ("B", "public", "911"),
        ("A", "unknown", "ONVIEW"),
        ("A", None, "911"),
        ("A", "unknown", "CARRIER PIGEON"),
        ("A", "unknown", None),
    ]
    with duckdb.connect() as con:
        table = calls_table(con, rows)
        for city in (None, "Seattle"):
            expected = initiation_split(con, table, taxonomy=taxonomy, city=city)
            counts = [(by, raw, 1) for _, by, raw in rows]
            found = initiation_split_from_counts(counts, taxonomy=taxonomy, city=city)
            assert found == expected
    assert (found.officer, found.public, found.unknown, found.resolved_with_vera) == (2, 3, 2, 2)


@pytest.mark.parametrize(
    ("initiated_by", "initiated_raw", "expected"),
    [
        ("officer", "911", ("officer", "profile")),
        ("public", "ONVIEW", ("public", "profile")),
        ("unknown", "ONVIEW", ("officer", "vera")),
        (None, "911", ("public", "vera")),
        ("unknown", "CARRIER PIGEON", ("unknown", "unknown")),
        ("unknown", None, ("unknown", "unknown")),
    ],
)
def test_initiation_of_matches_classify_calls(
    taxonomy: Taxonomy, initiated_by: str | None, initiated_raw: str | None, expected: Any
) -> None:
    assert initiation_of(initiated_by, initiated_raw, taxonomy=taxonomy, city="Seattle") == expected
    with duckdb.connect() as con:
        table = calls_table(con, [("A", initiated_by, initiated_raw)])
        classify_calls(con, table, taxonomy=taxonomy, city="Seattle")
        row = con.execute("SELECT initiation, initiation_source FROM classified_calls").fetchone()
    assert row == expected


def test_check_city_refuses_a_city_without_call_types(taxonomy: Taxonomy) -> None:
    taxonomy.check_city(None)
    taxonomy.check_city("seattle")
    with pytest.raises(ValueError, match="no call types for city 'Atlantis'"):
        taxonomy.check_city("Atlantis")


def test_the_results_cannot_be_changed(taxonomy: Taxonomy) -> None:
    with duckdb.connect() as con:
        result = eligibility_range(con, eligibility_table(con, taxonomy))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.n = 0  # type: ignore[misc]


def test_ingested_seattle_calls_classify_end_to_end(tmp_path: Path, taxonomy: Taxonomy) -> None:
    report = ingest(
        FIXTURES / "spd_calls.csv", profile="seattle-spd", output=tmp_path / "c.parquet"
    )
    with duckdb.connect() as con:
        con.read_parquet(report.output_path).create_view("calls")
        classified = classify_calls(con, "calls", taxonomy=taxonomy, city="Seattle")
        split = initiation_split(con, "calls", taxonomy=taxonomy, city="Seattle")
        unmapped = unmapped_call_types(con, "calls", taxonomy=taxonomy, city="Seattle")
        result = eligibility_range(con, classified.table)
    assert classified.calls == report.kept_rows == 12
    assert (split.officer, split.public, split.unknown) == (1, 10, 1)
    assert [u.call_type for u in unmapped] == ["NEW CALL TYPE NOBODY HAS MAPPED"]
    assert result.n == 10
    assert result.eligible_after_screening <= result.eligible_by_type


def test_taxonomy_docstring_examples_run() -> None:
    failures, tests = doctest.testmod(taxonomy_module)
    assert tests > 0
    assert failures == 0


def test_the_rule_names_only_the_city_files_it_used() -> None:
    from csas.analysis.safety.taxonomy import eligibility_range_from_counts

    counts = [("public", "community-only", False, 20)]
    default = eligibility_range_from_counts(counts).rule
    assert "csas's default category-to-tier table" in default
    assert "screening_rules.yaml" in default
    own = eligibility_range_from_counts(
        counts,
        own_files={"crosswalk": "tacoma_crosswalk.csv", "screening_rules": "tacoma_rules.yaml"},
    ).rule
    assert "csas's default category-to-tier table" in own  # no own tier table was given
    assert "own crosswalk (tacoma_crosswalk.csv)" in own
    assert "keyword rules in tacoma_rules.yaml" in own
    tiers = eligibility_range_from_counts(
        counts, own_files={"category_tiers": "tacoma_tiers.csv"}
    ).rule
    assert "the city's own category-to-tier table (tacoma_tiers.csv)" in tiers
    assert "own crosswalk" not in tiers

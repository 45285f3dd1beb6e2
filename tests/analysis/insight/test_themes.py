"""Candidate themes on real Austin survey comments, with a planted theme, and the bad input."""

from __future__ import annotations

import csv
import doctest
import random
from pathlib import Path

import pytest

from csas.analysis.insight import themes as themes_module
from csas.analysis.insight.themes import CandidateThemes, candidate_themes

SAMPLE = Path(__file__).parent / "fixtures" / "austin_sample.csv"


def streetlight_comments(n: int = 30) -> list[str]:
    """Synthetic comments about street lights, varied in wording (seeded)."""
    rng = random.Random(1)
    openings = ["Please", "We need to", "The city should", "Can you", "Someone needs to"]
    requests = [
        "fix the street lights",
        "repair broken streetlights",
        "add more street lighting",
        "replace burned out street lights",
        "install brighter lights",
    ]
    places = [
        "on my street",
        "near the school",
        "in our neighborhood",
        "by the park",
        "along Lamar",
        "at the bus stop",
    ]
    return [
        f"{rng.choice(openings)} {rng.choice(requests)} {rng.choice(places)}, "
        "it is too dark at night"
        for _ in range(n)
    ]


@pytest.fixture(scope="module")
def austin() -> list[str]:
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        return [row["comment"] for row in csv.DictReader(handle)]


@pytest.fixture(scope="module")
def planted(austin: list[str]) -> list[str]:
    return austin + streetlight_comments()


@pytest.fixture(scope="module")
def result(planted: list[str]) -> CandidateThemes:
    return candidate_themes(planted, seed=0)


def test_the_sample_is_the_vendored_270_comments(austin) -> None:
    assert len(austin) == 270


def test_themes_are_found_in_real_comments(result) -> None:
    assert result.k_rule == "silhouette"
    assert 2 <= result.k <= 12
    assert len(result.themes) == result.k
    assert set(result.silhouette_by_k) == set(range(2, 13))
    assert result.silhouette == max(result.silhouette_by_k.values())


def test_every_comment_is_accounted_for(result, planted) -> None:
    assert result.n_texts == len(planted) == 300
    assert result.n_clustered + len(result.excluded) == result.n_texts
    assert sum(theme.size for theme in result.themes) == result.n_clustered
    assert result.n_distinct + len(result.duplicate_of) == result.n_clustered
    for position, theme in enumerate(result.assignments):
        if position in result.excluded:
            assert theme is None
        else:
            assert theme is not None
            assert position in result.themes[theme].members


def test_a_planted_streetlight_theme_is_found_with_light_among_its_keywords(result) -> None:
    synthetic = set(range(270, 300))
    lit = [
        theme
        for theme in result.themes
        if any("light" in keyword.term for keyword in theme.keywords[:5])
    ]
    assert len(lit) == 1
    theme = lit[0]
    assert len(synthetic & set(theme.members)) >= 28
    assert len(set(theme.members) - synthetic) <= 10
    assert theme.coherence > 0.3


def test_real_themes_have_sensible_keywords(result) -> None:
    top_terms = {keyword.term for theme in result.themes for keyword in theme.keywords[:3]}
    assert {"traffic", "housing", "taxes"} <= top_terms


def test_quotes_are_verbatim_distinct_members_of_their_theme_closest_first(result, planted) -> None:
    for theme in result.themes:
        assert 3 <= len(theme.quotes) <= 5
        assert len({quote.text for quote in theme.quotes}) == len(theme.quotes)
        similarities = [quote.similarity for quote in theme.quotes]
        assert similarities == sorted(similarities, reverse=True)
        for quote in theme.quotes:
            assert quote.index in theme.members
            assert quote.text == planted[quote.index]
            assert quote.id == quote.index
            assert result.assignments[quote.index] == theme.number


def test_keywords_are_ranked_with_positive_weights_and_shares(result) -> None:
    for theme in result.themes:
        assert 1 <= len(theme.keywords) <= 10
        weights = [keyword.weight for keyword in theme.keywords]
        assert weights == sorted(weights, reverse=True)
        assert all(weight > 0 for weight in weights)
        assert all(0 < keyword.share <= 1 for keyword in theme.keywords)
        assert -1 <= theme.coherence <= 1
        assert theme.label.count(" / ") == min(2, len(theme.keywords) - 1)


def test_themes_are_numbered_from_the_largest(result) -> None:
    sizes = [theme.size for theme in result.themes]
    assert sizes == sorted(sizes, reverse=True)
    assert [theme.number for theme in result.themes] == list(range(result.k))
    assert sum(theme.share for theme in result.themes) == pytest.approx(1.0)


def test_the_same_seed_gives_the_same_themes(result, planted) -> None:
    again = candidate_themes(planted, seed=0)
    assert again.assignments == result.assignments
    assert again.themes == result.themes
    assert again.silhouette_by_k == result.silhouette_by_k


def test_a_given_k_is_used(planted) -> None:
    fixed = candidate_themes(planted, k=4, seed=0)
    assert fixed.k == 4
    assert fixed.k_rule == "given"
    assert list(fixed.silhouette_by_k) == [4]
    assert "k = 4 given" in fixed.method


def test_ids_are_carried_into_quotes(austin) -> None:
    ids = [f"austin-{i}" for i in range(len(austin))]
    found = candidate_themes(austin, ids=ids, k=3, seed=0)
    for theme in found.themes:
        for quote in theme.quotes:
            assert quote.id == f"austin-{quote.index}"


def test_empty_and_short_comments_are_excluded_and_counted(austin) -> None:
    texts: list[str | None] = [*austin[:100], "", "   ", None, "Too expensive!", "TRAFFIC!"]
    found = candidate_themes(texts, seed=0)
    assert found.excluded[100] == "empty"
    assert found.excluded[101] == "empty"
    assert found.excluded[102] == "empty"
    assert found.excluded[103] == "too short (fewer than 3 words)"
    assert found.excluded[104] == "too short (fewer than 3 words)"
    assert found.n_clustered + len(found.excluded) == len(texts)
    # with min_words=1 the short ones are clustered
    loose = candidate_themes(texts, seed=0, min_words=1)
    assert 103 not in loose.excluded
    assert loose.assignments[104] is not None


def test_duplicates_are_clustered_once_and_counted_in_their_theme(austin) -> None:
    base = austin[:120]
    repeated = "Property taxes are too high in this city."
    texts = [*base, repeated, "PROPERTY TAXES are too high in this city!!", repeated]
    found = candidate_themes(texts, seed=0)
    assert found.duplicate_of == {121: 120, 122: 120}
    theme = found.themes[found.assignments[120]]  # type: ignore[index]
    assert {120, 121, 122} <= set(theme.members)
    assert found.assignments[121] == found.assignments[122] == found.assignments[120]
    assert [quote.index for quote in theme.quotes].count(121) == 0
    assert theme.size - theme.n_distinct >= 2


def test_comments_coded_with_confidence_are_left_out(austin) -> None:
    texts = austin[:100]
    confidences: list[float | None] = [0.9 if i % 2 else None for i in range(100)]
    confidences[0] = 0.2
    found = candidate_themes(texts, confidences=confidences, max_confidence=0.5, seed=0)
    assert found.excluded[1] == "already coded (confidence >= 0.5)"
    assert 0 not in found.excluded
    assert sum(reason.startswith("already coded") for reason in found.excluded.values()) == 50


def test_comments_in_other_languages_are_clustered_without_crashing(austin) -> None:
    spanish = [
        "Necesitamos más luces en la calle por la noche",
        "Las luces de la calle no funcionan en mi barrio",
        "Por favor arreglen las luces de la calle",
        "La calle está muy oscura por la noche",
    ]
    found = candidate_themes([*austin[:60], *spanish], seed=0)
    assert all(found.assignments[60 + i] is not None for i in range(4))


def test_comments_of_stop_words_only_have_no_informative_words() -> None:
    texts = [
        "street lights broken again",
        "street lights are out",
        "fix the street lights",
        "buses are late again",
        "the buses never come",
        "more buses please now",
        "it is what it is",
    ]
    found = candidate_themes(texts, k=2, seed=0)
    assert found.excluded == {6: "no informative words"}
    assert found.n_clustered == 6


# ---- bad input ---------------------------------------------------------------------------


def test_too_few_usable_comments_are_rejected_with_the_reasons() -> None:
    with pytest.raises(ValueError, match=r"only 2 distinct usable comment\(s\) of 4 \(1 empty"):
        candidate_themes(["street lights are out", "buses are always late", "", "ok"])


def test_no_comments_are_rejected() -> None:
    with pytest.raises(ValueError, match="only 0 distinct usable"):
        candidate_themes([])


def test_a_k_larger_than_the_comments_allow_is_rejected(austin) -> None:
    with pytest.raises(ValueError, match="need at least 11"):
        candidate_themes(austin[:8], k=10)


def test_a_single_string_is_rejected() -> None:
    with pytest.raises(ValueError, match="not a single string"):
        candidate_themes("street lights are out")


def test_a_non_text_comment_is_rejected_with_its_position() -> None:
    with pytest.raises(ValueError, match=r"texts\[1\] is int 42"):
        candidate_themes(["street lights are out", 42])  # type: ignore[list-item]


def test_ids_of_the_wrong_length_are_rejected(austin) -> None:
    with pytest.raises(ValueError, match="ids has 2 entries for 10 texts"):
        candidate_themes(austin[:10], ids=["a", "b"])


def test_an_unknown_stop_word_list_is_rejected(austin) -> None:
    with pytest.raises(ValueError, match="stop_words must be one of"):
        candidate_themes(austin[:10], stop_words="german")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("option", "value"),
    [("k", 1), ("max_k", 1), ("n_quotes", 0), ("min_words", 0), ("seed", -1), ("n_init", 2.5)],
)
def test_bad_options_are_rejected(austin, option: str, value: object) -> None:
    with pytest.raises(ValueError, match=option):
        candidate_themes(austin[:10], **{option: value})  # type: ignore[arg-type]


def test_a_confidence_threshold_outside_zero_to_one_is_rejected(austin) -> None:
    with pytest.raises(ValueError, match="max_confidence"):
        candidate_themes(austin[:10], max_confidence=1.5)


def test_docstring_examples_run() -> None:
    failures, tests = doctest.testmod(themes_module)
    assert tests > 0
    assert failures == 0

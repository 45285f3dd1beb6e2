"""Opinion groups against Polis's own exports, plus the rules and the bad input."""

from __future__ import annotations

import csv
import doctest
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from csas.analysis.insight import opinion
from csas.analysis.insight.opinion import Z_90, OpinionGroups, opinion_groups

TESTS = Path(__file__).resolve().parents[2]
POLIS = {
    "15-per-hour-seattle": Path(__file__).parent / "fixtures" / "polis" / "15-per-hour-seattle",
    "brexit-consensus": Path(__file__).parent / "fixtures" / "polis" / "brexit-consensus",
    "london.youth.policing": TESTS
    / "engagement"
    / "import_fixtures"
    / "polis"
    / "london.youth.policing",
}


@dataclass(frozen=True)
class Conversation:
    participants: list[int]
    comments: list[int]
    values: list[int]
    moderated_out: list[int]
    polis_groups: dict[int, int | None]
    texts: dict[int, str]


def _read(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_conversation(name: str) -> Conversation:
    """Votes in time order (so the last vote on a statement counts, as in Polis)."""
    folder = POLIS[name]
    comments = _read(folder, "comments.csv")
    votes = _read(folder, "votes.csv")
    order = sorted(range(len(votes)), key=lambda i: (int(votes[i]["timestamp"]), i))
    groups = {
        int(row["participant"]): int(row["group-id"]) if row["group-id"] else None
        for row in _read(folder, "participants-votes.csv")
    }
    return Conversation(
        participants=[int(votes[i]["voter-id"]) for i in order],
        comments=[int(votes[i]["comment-id"]) for i in order],
        values=[int(votes[i]["vote"]) for i in order],
        moderated_out=[int(row["comment-id"]) for row in comments if row["moderated"] == "-1"],
        polis_groups=groups,
        texts={int(row["comment-id"]): row["comment-body"] for row in comments},
    )


@pytest.fixture(scope="module")
def conversations() -> dict[str, Conversation]:
    return {name: load_conversation(name) for name in POLIS}


@pytest.fixture(scope="module")
def results(conversations: dict[str, Conversation]) -> dict[str, OpinionGroups]:
    return {
        name: opinion_groups(
            c.participants, c.comments, c.values, moderated_out=c.moderated_out, seed=0
        )
        for name, c in conversations.items()
    }


def _ari(result: OpinionGroups, polis: dict[int, int | None]) -> float:
    both = [p for p, g in result.groups.items() if g is not None and polis.get(p) is not None]
    return float(adjusted_rand_score([polis[p] for p in both], [result.groups[p] for p in both]))


# Measured with seed 0: 0.776 (k 2, Polis 2), 0.876 (k 2, Polis 2), 0.178 (k 4, Polis 3).
# Seeds 0-7: seattle 0.776 six times, 0.584 and 0.459 (other base clusterings); brexit 0.876
# seven times, 0.558 once (k 3); london 0.178 every time (it splits Polis's group of 18 into
# two groups of 9 that answered the age and gender statements differently). Polis's groups
# carry its history (base clusters warm-started over time, k smoothing), which a snapshot of
# the votes cannot replay, so the export is a loose oracle.
@pytest.mark.parametrize(
    ("name", "floor", "polis_k"),
    [
        ("15-per-hour-seattle", 0.70, 2),
        ("brexit-consensus", 0.80, 2),
        ("london.youth.policing", 0.15, 3),
    ],
)
def test_opinion_groups_agree_with_polis_exported_groups_by_adjusted_rand_index(
    results, conversations, name, floor, polis_k
) -> None:
    result = results[name]
    ari = _ari(result, conversations[name].polis_groups)
    print(f"{name}: ARI {ari:.3f} vs Polis, k {result.k} (Polis {polis_k})")
    assert ari >= floor, f"{name}: adjusted Rand index {ari:.3f} fell below {floor}"


def test_conversations_with_100_grouped_participants_reach_the_issue_target_of_ari_half(
    results, conversations
) -> None:
    for name in ("15-per-hour-seattle", "brexit-consensus"):
        assert sum(g is not None for g in conversations[name].polis_groups.values()) >= 100
        assert _ari(results[name], conversations[name].polis_groups) >= 0.5
        assert results[name].k == 2


@pytest.mark.parametrize(
    ("name", "grouped_by_polis"), [("15-per-hour-seattle", 138), ("london.youth.policing", 24)]
)
def test_in_conv_participants_are_exactly_those_polis_grouped(
    results, conversations, name, grouped_by_polis
) -> None:
    polis = conversations[name].polis_groups
    ours = {p for p, g in results[name].groups.items() if g is not None}
    assert results[name].n_in_conv == len(ours) == grouped_by_polis
    assert ours == {p for p, g in polis.items() if g is not None}


def test_brexit_in_conv_misses_only_polis_participants_with_fewer_than_seven_votes(
    results, conversations
) -> None:
    # Polis grouped 197 of 204; 8 of them cast fewer than 7 votes in the export, so no rule
    # applied to the exported votes puts them in. Polis keeps a participant once in-conv and
    # clusters incrementally; the export alone does not show why these 8 were in.
    conversation, result = conversations["brexit-consensus"], results["brexit-consensus"]
    ours = {p for p, g in result.groups.items() if g is not None}
    theirs = {p for p, g in conversation.polis_groups.items() if g is not None}
    assert result.n_in_conv == 189
    assert ours <= theirs
    votes_cast = {p: conversation.participants.count(p) for p in theirs - ours}
    assert len(votes_cast) == 8
    assert all(n < 7 for n in votes_cast.values())


def test_participants_outside_the_conversation_have_no_group_but_a_position(results) -> None:
    result = results["15-per-hour-seattle"]
    assert result.n_participants == 339
    assert len(result.groups) == 339
    assert sum(g is None for g in result.groups.values()) == 339 - 138
    assert sum(result.sizes) == result.n_in_conv == 138
    assert set(result.projections) <= set(result.groups)
    assert all(len(xy) == 2 for xy in result.projections.values())


def test_moderated_out_statements_are_left_out_and_their_votes_counted(
    results, conversations
) -> None:
    conversation, result = conversations["15-per-hour-seattle"], results["15-per-hour-seattle"]
    assert len(conversation.moderated_out) == 23
    assert not set(result.comment_ids) & set(conversation.moderated_out)
    assert result.components.shape == (2, len(result.comment_ids))
    moderated = set(conversation.moderated_out)
    assert result.n_moderated_out_votes == sum(c in moderated for c in conversation.comments)
    assert result.n_votes + result.n_superseded + result.n_moderated_out_votes == len(
        conversation.values
    )


def test_a_revote_replaces_the_earlier_vote_and_is_counted(results) -> None:
    # london.youth.policing: two (voter, comment) pairs were voted on twice
    assert results["london.youth.policing"].n_superseded == 2


def test_group_numbers_run_from_the_largest_group(results) -> None:
    for result in results.values():
        assert list(result.sizes) == sorted(result.sizes, reverse=True)
        assert set(result.silhouette_by_k) >= {2}
        assert result.silhouette == result.silhouette_by_k[result.k]
        assert result.silhouette == max(result.silhouette_by_k.values())


def test_representative_statements_pass_both_z_tests_on_their_side(results) -> None:
    for result in results.values():
        assert len(result.representative) == result.k
        for statements in result.representative:
            assert 1 <= len(statements) <= 5
            metrics = [s.metric for s in statements]
            assert metrics == sorted(metrics, reverse=True)
            for statement in statements:
                assert statement.significant
                assert statement.probability_test > Z_90
                assert statement.representativeness_test > Z_90
                assert statement.representativeness > 1


def test_brexit_groups_split_on_labour_and_brexit(results, conversations) -> None:
    texts = conversations["brexit-consensus"].texts
    result = results["brexit-consensus"]
    sides = {
        (texts[s.comment], s.direction) for statements in result.representative for s in statements
    }
    assert ("Labour should oppose the Brexit process.", "agree") in sides
    assert ("Labour should oppose the Brexit process.", "disagree") in sides


def test_consensus_statements_lean_the_same_way_in_every_group(results) -> None:
    for result in results.values():
        for statement in result.consensus:
            assert len(statement.group_probabilities) == result.k
            assert all(p > 0.5 for p in statement.group_probabilities)
            assert statement.score == pytest.approx(np.prod(statement.group_probabilities))
            assert statement.probability_test > opinion.Z_95
    brexit = results["brexit-consensus"].consensus
    assert {s.direction for s in brexit} == {"agree", "disagree"}


def test_the_same_seed_gives_the_same_groups(conversations, results) -> None:
    c = conversations["brexit-consensus"]
    again = opinion_groups(
        c.participants, c.comments, c.values, moderated_out=c.moderated_out, seed=0
    )
    first = results["brexit-consensus"]
    assert again.groups == first.groups
    assert again.projections == first.projections
    assert again.silhouette_by_k == first.silhouette_by_k
    assert again.representative == first.representative
    assert again.consensus == first.consensus


def test_components_are_the_fixed_point_of_polis_power_iteration(results, conversations) -> None:
    # Polis: 100 power-iteration steps with deflation on the mean-imputed, centred matrix of
    # in-conv participants. The SVD's components must be where that iteration ends up.
    conversation, result = conversations["brexit-consensus"], results["brexit-consensus"]
    column = {comment: j for j, comment in enumerate(result.comment_ids)}
    in_conv = [p for p, g in result.groups.items() if g is not None]
    row = {p: i for i, p in enumerate(in_conv)}
    matrix = np.full((len(row), len(column)), np.nan)
    for p, comment, value in zip(
        conversation.participants, conversation.comments, conversation.values, strict=True
    ):
        if p in row and comment in column:
            matrix[row[p], column[comment]] = value  # time order: the last vote counts
    seen = ~np.isnan(matrix)
    means = np.where(seen, matrix, 0).sum(axis=0) / seen.sum(axis=0)
    centred = np.where(seen, matrix - means, 0.0)
    covariance = centred.T @ centred
    rng = np.random.default_rng(0)
    found: list[np.ndarray] = []
    for _ in range(2):
        vector = rng.normal(size=len(column))
        for _ in range(100):
            vector = covariance @ vector
            for earlier in found:
                vector -= (vector @ earlier) * earlier
            vector /= np.linalg.norm(vector)
        found.append(vector)
    for iterated, component in zip(found, result.components, strict=True):
        assert abs(float(iterated @ component)) == pytest.approx(1.0, abs=1e-6)


def test_the_method_text_says_how_the_groups_were_found(results) -> None:
    method = results["london.youth.policing"].method
    assert "24 of 26 participants" in method
    assert "silhouette" in method
    assert "seed 0" in method


# ---- small synthetic conversations -------------------------------------------------------


def two_camps(people: int = 20, statements: int = 8) -> tuple[list[str], list[int], list[int]]:
    participants, comments, values = [], [], []
    for person in range(people):
        camp = 1 if person < people // 2 else -1
        for statement in range(statements):
            participants.append(f"p{person}")
            comments.append(statement)
            passes = (person + statement) % 7 == 0
            values.append(0 if passes else camp if statement < statements - 2 else 1)
    return participants, comments, values


def test_two_opposed_camps_become_two_groups_with_opposite_representative_statements() -> None:
    result = opinion_groups(*two_camps(), seed=3)
    assert result.k == 2
    assert result.sizes == (10, 10)
    assert len(set(result.members(0)) & {f"p{i}" for i in range(10)}) in (0, 10)
    first = {(s.comment, s.direction) for s in result.representative[0]}
    second = {(s.comment, s.direction) for s in result.representative[1]}
    flipped = {(c, "agree" if d == "disagree" else "disagree") for c, d in first}
    assert flipped & second
    assert {s.comment for s in result.consensus} == {6, 7}


def test_people_with_too_few_votes_are_left_out_unless_needed_to_reach_fifteen() -> None:
    participants, comments, values = two_camps(people=20)
    # a 21st participant votes on 3 statements only
    participants += ["late"] * 3
    comments += [0, 1, 2]
    values += [1, 1, 1]
    result = opinion_groups(participants, comments, values, seed=0)
    assert result.groups["late"] is None
    assert result.n_in_conv == 20
    assert "late" in result.projections
    # with a minimum of 21 in the conversation the most active voter left is added
    topped_up = opinion_groups(participants, comments, values, seed=0, min_in_conv=21)
    assert topped_up.groups["late"] is not None


def test_a_sparse_voter_is_scaled_out_from_the_centre_of_the_map() -> None:
    participants, comments, values = two_camps(people=20)
    full = opinion_groups(participants, comments, values, seed=0)
    # p1 votes again but only on half of the statements
    keep = [i for i, p in enumerate(participants) if p != "p1" or comments[i] % 2 == 0]
    half = opinion_groups(
        [participants[i] for i in keep],
        [comments[i] for i in keep],
        [values[i] for i in keep],
        seed=0,
        min_votes=4,
    )
    radius_full = np.hypot(*full.projections["p1"])
    radius_half = np.hypot(*half.projections["p1"])
    # scaled by sqrt(8 statements / 4 votes): as far out as with every vote...
    assert radius_half == pytest.approx(radius_full, rel=0.1)
    # ...where the plain projection would have pulled p1 towards the centre
    assert radius_half / np.sqrt(2) < 0.8 * radius_full
    assert half.groups["p1"] == half.groups["p2"]


def test_different_seeds_still_give_a_valid_grouping(conversations) -> None:
    c = conversations["london.youth.policing"]
    for seed in (1, 2):
        result = opinion_groups(
            c.participants, c.comments, c.values, moderated_out=c.moderated_out, seed=seed
        )
        assert 2 <= result.k <= 4
        assert sum(result.sizes) == 24


# ---- bad input ---------------------------------------------------------------------------


def test_one_participant_is_too_few() -> None:
    with pytest.raises(ValueError, match="at least 3 participants; got 1"):
        opinion_groups(["a", "a", "a"], [1, 2, 3], [1, -1, 0])


def test_two_participants_are_too_few() -> None:
    with pytest.raises(ValueError, match="at least 3 participants; got 2"):
        opinion_groups(["a", "a", "b", "b"], [1, 2, 1, 2], [1, -1, -1, 1])


def test_no_votes_are_rejected() -> None:
    with pytest.raises(ValueError, match="no votes"):
        opinion_groups([], [], [])


def test_a_vote_outside_minus_one_to_one_is_rejected_with_its_position() -> None:
    participants, comments, values = two_camps()
    values[5] = 2
    with pytest.raises(ValueError, match=r"values\[5\] is 2 \(participant 'p0', comment 5\)"):
        opinion_groups(participants, comments, values)


def test_a_fractional_or_missing_vote_is_rejected() -> None:
    participants, comments, values = two_camps()
    for bad in (0.5, float("nan")):
        as_float: list[float] = [float(v) for v in values]
        as_float[0] = bad
        with pytest.raises(ValueError, match=r"values\[0\]"):
            opinion_groups(participants, comments, as_float)


def test_text_votes_are_rejected() -> None:
    with pytest.raises(ValueError, match="must be numbers"):
        opinion_groups(["a", "b", "c"], [1, 1, 1], ["agree", "agree", "disagree"])


def test_mismatched_lengths_are_rejected() -> None:
    with pytest.raises(ValueError, match="same length: got 3, 2 and 3"):
        opinion_groups(["a", "b", "c"], [1, 2], [1, 1, 1])


def test_all_statements_moderated_out_is_rejected() -> None:
    participants, comments, values = two_camps()
    with pytest.raises(ValueError, match="at least 2 statements"):
        opinion_groups(participants, comments, values, moderated_out=range(8))


def test_identical_voters_cannot_be_split_into_groups() -> None:
    participants = [f"p{i}" for i in range(10) for _ in range(8)]
    comments = [c for _ in range(10) for c in range(8)]
    with pytest.raises(ValueError, match="distinct position"):
        opinion_groups(participants, comments, [1] * 80)


@pytest.mark.parametrize(
    ("option", "value"), [("max_k", 1), ("base_k", 0), ("min_votes", 0), ("n_init", True)]
)
def test_bad_options_are_rejected(option: str, value: object) -> None:
    with pytest.raises(ValueError, match=option):
        opinion_groups(*two_camps(), **{option: value})  # type: ignore[arg-type]


def test_docstring_examples_run() -> None:
    failures, tests = doctest.testmod(opinion)
    assert tests > 0
    assert failures == 0

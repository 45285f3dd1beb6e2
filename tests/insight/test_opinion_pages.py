"""Opinion groups of imported Polis conversations: the staff list and conversation pages."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from csas.analysis.insight.opinion import opinion_groups
from csas.engagement.import_services import import_check, import_commit, import_upload
from csas.engagement.models import (
    FeedbackItem,
    ImportBatch,
    ModerationStatus,
    PolisParticipant,
    Vote,
)
from csas.insight import opinion_selectors
from csas.insight.opinion_selectors import OPINION_SEED, conversation_opinion_groups
from csas.strategy.models import Strategy

POLIS = (
    Path(__file__).parents[1] / "engagement" / "import_fixtures" / "polis" / "london.youth.policing"
)


@pytest.fixture
def strategy(db: Any) -> Strategy:
    return Strategy.objects.get(slug="tacoma-csas")


@pytest.fixture
def staff(user_for: Any) -> Client:
    client = Client()
    client.force_login(user_for("strategy_staff"))
    return client


def _polis_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(POLIS.glob("*.csv")):
            archive.write(path, path.name)
    return buffer.getvalue()


@pytest.fixture
def london(strategy: Strategy, user_for: Any) -> ImportBatch:
    """The vendored London youth policing conversation (26 participants, 638 votes),
    imported through the engagement import services."""
    batch = import_upload(
        strategy=strategy,
        kind="polis",
        filename="london.youth.policing.zip",
        data=_polis_zip(),
        user=user_for("strategy_staff"),
    )
    assert import_check(batch=batch).can_commit
    return import_commit(batch=batch, user=None)


def _library_result(batch: ImportBatch) -> Any:
    """The library called here on the stored votes, as the page should."""
    votes = list(
        Vote.objects.filter(participant__batch=batch)
        .order_by("voted_at", "pk")
        .values_list("participant_id", "item_id", "value")
    )
    rejected = FeedbackItem.objects.filter(
        import_batch=batch, status=ModerationStatus.REJECTED
    ).values_list("pk", flat=True)
    return opinion_groups(
        [v[0] for v in votes],
        [v[1] for v in votes],
        [v[2] for v in votes],
        moderated_out=set(rejected),
        seed=OPINION_SEED,
    )


def _bare_batch(strategy: Strategy, name: str = "empty.zip") -> ImportBatch:
    return ImportBatch.objects.create(
        strategy=strategy, kind="polis", original_name=name, sha256="0" * 64, status="committed"
    )


def _voters(batch: ImportBatch, n_people: int, votes: list[list[int]]) -> None:
    items = [
        FeedbackItem.objects.create(
            strategy=batch.strategy, source="polis", text=f"Statement {i}", import_batch=batch
        )
        for i in range(len(votes[0]))
    ]
    for person in range(n_people):
        participant = PolisParticipant.objects.create(batch=batch, external_id=str(person))
        for item, value in zip(items, votes[person % len(votes)], strict=True):
            Vote.objects.create(participant=participant, item=item, value=value)


ROLES = [
    ("public", 302),
    ("partner", 403),
    ("department_editor", 403),
    ("strategy_staff", 200),
    ("admin", 200),
]


@pytest.mark.parametrize(("role", "status"), ROLES)
def test_the_conversation_list_is_for_the_strategy_office(
    london: ImportBatch, user_for: Any, role: str, status: int
) -> None:
    client = Client()
    if user_for(role):
        client.force_login(user_for(role))
    assert client.get("/manage/insight/conversations/").status_code == status


@pytest.mark.parametrize(("role", "status"), ROLES)
def test_a_conversation_page_is_for_the_strategy_office(
    london: ImportBatch, user_for: Any, role: str, status: int
) -> None:
    client = Client()
    if user_for(role):
        client.force_login(user_for(role))
    assert client.get(f"/manage/insight/conversations/{london.pk}/").status_code == status


def test_anonymous_visitors_are_sent_to_log_in(london: ImportBatch) -> None:
    response = Client().get(f"/manage/insight/conversations/{london.pk}/")
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_list_shows_each_conversation_with_its_counts(
    london: ImportBatch, staff: Client
) -> None:
    page = staff.get("/manage/insight/conversations/").content.decode()
    assert "london.youth.policing.zip" in page
    assert "<td>26</td><td>638</td><td>39</td>" in page


def test_the_list_leaves_out_other_imports_and_says_when_there_are_none(
    strategy: Strategy, staff: Client
) -> None:
    ImportBatch.objects.create(
        strategy=strategy,
        kind="feedback",
        original_name="comments.csv",
        sha256="1" * 64,
        status="committed",
    )
    ImportBatch.objects.create(
        strategy=strategy,
        kind="polis",
        original_name="previewed.zip",
        sha256="2" * 64,
        status="previewed",
    )
    page = staff.get("/manage/insight/conversations/").content.decode()
    assert "comments.csv" not in page
    assert "previewed.zip" not in page
    assert "No Polis conversation has been imported yet." in page


def test_a_conversation_that_is_not_a_committed_polis_import_is_not_found(
    strategy: Strategy, staff: Client
) -> None:
    other = ImportBatch.objects.create(
        strategy=strategy,
        kind="feedback",
        original_name="comments.csv",
        sha256="1" * 64,
        status="committed",
    )
    assert staff.get(f"/manage/insight/conversations/{other.pk}/").status_code == 404
    assert staff.get("/manage/insight/conversations/999999/").status_code == 404


def test_the_conversation_pages_refuse_post(london: ImportBatch, staff: Client) -> None:
    assert staff.post("/manage/insight/conversations/").status_code == 405
    assert staff.post(f"/manage/insight/conversations/{london.pk}/").status_code == 405


def test_groups_equal_the_library_on_the_stored_votes(london: ImportBatch, settings: Any) -> None:
    settings.SUPPRESSION_THRESHOLD = 2
    analysis = conversation_opinion_groups(london)
    expected = _library_result(london)
    assert analysis.result is not None
    assert analysis.result.sizes == expected.sizes
    assert analysis.result.groups == expected.groups
    assert [g.size for g in analysis.groups] == list(expected.sizes)
    first = analysis.groups[0].representative[0]
    theirs = expected.representative[0][0]
    assert first.comment == theirs.comment
    assert first.agree_share == pytest.approx(theirs.n_agree / theirs.n_seen)
    assert [c.comment for c in analysis.consensus] == [c.comment for c in expected.consensus]
    assert analysis.n_not_grouped == expected.n_participants - expected.n_in_conv


def test_the_page_shows_sizes_centres_statements_and_the_map(
    london: ImportBatch, staff: Client, settings: Any
) -> None:
    settings.SUPPRESSION_THRESHOLD = 2
    expected = _library_result(london)
    page = staff.get(f"/manage/insight/conversations/{london.pk}/").content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page
    assert 'role="img"' in page
    assert "Opinion groups: sizes and centres on the map" in page
    for number, size in enumerate(expected.sizes, start=1):
        assert re.search(rf"Group {number}</th>\s*<td>{size}</td>", page)
    statement = expected.representative[0][0]
    text = FeedbackItem.objects.get(pk=statement.comment).text
    assert text.split()[0] in page
    agree = round(statement.n_agree / statement.n_seen * 100)
    assert f"<td>{agree}%</td>" in page
    assert "Consensus statements" in page


def test_groups_under_the_threshold_are_shown_as_fewer_than_n(
    london: ImportBatch, staff: Client
) -> None:
    analysis = conversation_opinion_groups(london)
    assert analysis.result is not None
    assert all(size < 10 for size in analysis.result.sizes)
    assert all(g.size is None and g.hidden == "primary" for g in analysis.groups)
    assert all(g.representative == () and g.centroid is None for g in analysis.groups)
    page = staff.get(f"/manage/insight/conversations/{london.pk}/").content.decode()
    assert "fewer than 10" in page
    assert not re.search(r"Group 1</th>\s*<td>\d", page)


def test_a_group_that_would_give_away_a_small_one_is_hidden_too(
    london: ImportBatch, settings: Any
) -> None:
    # sizes 9, 9, 3, 3 and 2 not grouped: at 3 only "not grouped" is small, and with the
    # total of participants shown one more cell has to go.
    settings.SUPPRESSION_THRESHOLD = 3
    analysis = conversation_opinion_groups(london)
    assert analysis.not_grouped_hidden == "primary"
    assert analysis.n_not_grouped is None
    assert sum(1 for g in analysis.groups if g.hidden == "complementary") == 1


def test_the_second_view_comes_from_the_cache_without_recomputing(
    london: ImportBatch, staff: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"/manage/insight/conversations/{london.pk}/"
    first = staff.get(url)
    assert "Now, from the stored votes" in first.content.decode()

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("recomputed although the votes did not change")

    monkeypatch.setattr(opinion_selectors, "opinion_groups", refuse)
    second = staff.get(url)
    assert second.status_code == 200
    assert "Earlier, from the same votes (kept in the cache)" in second.content.decode()


def test_a_new_vote_or_moderation_decision_changes_the_cache_key(london: ImportBatch) -> None:
    before = conversation_opinion_groups(london)
    item = FeedbackItem.objects.filter(import_batch=london, status="pending").first()
    assert item is not None
    item.status = ModerationStatus.REJECTED
    item.save()
    after = conversation_opinion_groups(london)
    assert after.fingerprint != before.fingerprint
    assert not after.from_cache
    participant = PolisParticipant.objects.create(batch=london, external_id="late")
    Vote.objects.create(participant=participant, item=item, value=1)
    latest = conversation_opinion_groups(london)
    assert latest.fingerprint != after.fingerprint
    assert cache.get(opinion_selectors.cache_key(london, latest.fingerprint)) is not None


def test_a_conversation_without_votes_gets_a_clear_message(
    strategy: Strategy, staff: Client
) -> None:
    batch = _bare_batch(strategy)
    page = staff.get(f"/manage/insight/conversations/{batch.pk}/")
    assert page.status_code == 200
    assert "This conversation has no votes" in page.content.decode()
    assert "<svg" not in page.content.decode()


def test_a_conversation_with_one_participant_gets_a_clear_message(
    strategy: Strategy, staff: Client
) -> None:
    batch = _bare_batch(strategy)
    _voters(batch, 1, [[1, -1, 0]])
    page = staff.get(f"/manage/insight/conversations/{batch.pk}/").content.decode()
    assert "Only 1 participant voted in this conversation" in page


def test_votes_on_a_single_statement_get_a_clear_message(strategy: Strategy) -> None:
    batch = _bare_batch(strategy)
    _voters(batch, 5, [[1], [-1]])
    analysis = conversation_opinion_groups(batch)
    assert analysis.result is None
    assert "at least 2 statements" in analysis.message


def test_votes_too_uniform_to_split_get_the_library_reason(
    strategy: Strategy, staff: Client
) -> None:
    batch = _bare_batch(strategy)
    _voters(batch, 6, [[1, 1, 1]])
    analysis = conversation_opinion_groups(batch)
    assert analysis.result is None
    assert "could not be split into opinion groups" in analysis.message
    page = staff.get(f"/manage/insight/conversations/{batch.pk}/")
    assert page.status_code == 200
    assert "could not be split into opinion groups" in page.content.decode()


def test_the_list_runs_a_fixed_number_of_queries(
    london: ImportBatch, strategy: Strategy, staff: Client, django_assert_num_queries: Any
) -> None:
    _bare_batch(strategy, "second.zip")
    staff.get("/manage/insight/conversations/")
    # session, user, strategy, conversations with their counts and activity
    with django_assert_num_queries(4):
        assert staff.get("/manage/insight/conversations/").status_code == 200


def test_a_cached_conversation_page_runs_a_fixed_number_of_queries(
    london: ImportBatch, staff: Client, django_assert_num_queries: Any
) -> None:
    url = f"/manage/insight/conversations/{london.pk}/"
    staff.get(url)
    # session, user, strategy, conversation, vote fingerprint, rejected statements, texts
    with django_assert_num_queries(7):
        assert staff.get(url).status_code == 200

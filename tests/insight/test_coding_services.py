"""Coding feedback: the codebook kept in step with the strategy, themes, coding runs, reviews
and settled codes (services and the selectors other code relies on)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from csas.analysis.insight.coding import load_codebook, load_examples
from csas.engagement.models import FeedbackItem
from csas.insight import coding_selectors as selectors
from csas.insight import coding_services as services
from csas.insight.models import Code, CodingRun, ItemCode, ItemCoding, Review
from csas.strategy.models import Action, Goal, Strategy, StrategyVersion
from tests.conftest import make_user

LIGHTS = "The street lights are out and the sidewalk is broken on our block."
POLICE = "When I called the police it took an hour for an officer to come."
YOUTH = "Youth programs after school and mentoring for teenagers would help."


@pytest.fixture
def strategy(db: Any) -> Strategy:
    return Strategy.objects.get(slug="tacoma-csas")


@pytest.fixture
def codebook(strategy: Strategy) -> dict[str, Code]:
    services.codebook_sync_from_strategy(strategy=strategy)
    return {code.key: code for code in Code.objects.filter(strategy=strategy)}


def item(strategy: Strategy, text: str, *, status: str = "published", redacted: str = "") -> Any:
    return FeedbackItem.objects.create(
        strategy=strategy, source="import", text=text, redacted_text=redacted, status=status
    )


def machine_keys(feedback: FeedbackItem) -> set[str]:
    return set(
        ItemCode.objects.filter(item=feedback, origin="machine").values_list("code__key", flat=True)
    )


# --- codebook -------------------------------------------------------------------------------


def test_sync_makes_a_code_per_goal_action_and_focus_population(strategy: Strategy) -> None:
    result = services.codebook_sync_from_strategy(strategy=strategy)
    version = StrategyVersion.objects.get(strategy=strategy, is_published=True)
    n_goals = Goal.objects.filter(version=version).count()
    n_actions = Action.objects.filter(version=version).count()
    codes = Code.objects.filter(strategy=strategy)
    assert codes.filter(kind="goal").count() == n_goals == 4
    assert codes.filter(kind="action").count() == n_actions
    assert codes.filter(kind="focus").count() == 8
    assert result.created == codes.count()
    places = codes.get(kind="goal", key="PLACES")
    shipped = load_codebook().code("PLACES")
    assert places.keywords == list(shipped.keywords)
    assert places.examples == list(shipped.examples)
    assert places.description.startswith("Safe PLACES and Neighborhoods.")
    assert "well-lit" in places.description  # from the shipped codebook
    assert not codes.get(key="3.6").keywords  # only goals have a shipped lexicon


def test_sync_keys_actions_by_code_and_by_slug_where_codes_repeat(
    codebook: dict[str, Code],
) -> None:
    assert codebook["3.6"].kind == "action"
    assert codebook["3.6"].parent == codebook["RESPONSE"]
    assert "3.1" not in codebook  # two actions share 3.1 in the adopted version
    assert {"3-1-enhance", "3-1-provide"} <= set(codebook)
    assert codebook["youth"].kind == "focus"
    assert codebook["youth"].parent == codebook["PEOPLE"]


def test_sync_is_idempotent(strategy: Strategy, codebook: dict[str, Code]) -> None:
    again = services.codebook_sync_from_strategy(strategy=strategy)
    assert (again.created, again.updated, again.deactivated) == (0, 0, 0)
    assert again.unchanged == len(codebook)
    assert {c.key: c.pk for c in Code.objects.filter(strategy=strategy)} == {
        key: code.pk for key, code in codebook.items()
    }


def test_sync_never_touches_staff_themes(strategy: Strategy, codebook: dict[str, Code]) -> None:
    theme = services.code_theme_create(
        strategy=strategy, label="Noise", keywords=["noise", "loud music"]
    )
    services.codebook_sync_from_strategy(strategy=strategy)
    theme.refresh_from_db()
    assert theme.is_active
    assert theme.keywords == ["noise", "loud music"]


def test_sync_deactivates_codes_that_left_the_strategy_without_deleting_them(
    strategy: Strategy, codebook: dict[str, Code]
) -> None:
    Action.objects.filter(
        version__strategy=strategy, version__is_published=True, slug="3-6"
    ).delete()
    result = services.codebook_sync_from_strategy(strategy=strategy)
    assert result.deactivated == 1
    code = Code.objects.get(pk=codebook["3.6"].pk)
    assert not code.is_active


def test_sync_refuses_a_strategy_with_no_published_version(strategy: Strategy) -> None:
    StrategyVersion.objects.filter(strategy=strategy).update(is_published=False)
    with pytest.raises(ValidationError, match="no published version"):
        services.codebook_sync_from_strategy(strategy=strategy)
    assert not Code.objects.filter(strategy=strategy).exists()


def test_a_theme_without_description_examples_or_keywords_is_refused(strategy: Strategy) -> None:
    with pytest.raises(ValidationError, match="needs a description, examples or keywords"):
        services.code_theme_create(strategy=strategy, label="Vague", description="  ")
    assert not Code.objects.filter(strategy=strategy, kind="theme").exists()


def test_a_theme_without_a_name_is_refused(strategy: Strategy) -> None:
    with pytest.raises(ValidationError):
        services.code_theme_create(strategy=strategy, label="   ", keywords=["noise"])


def test_themes_get_unique_keys_and_clean_keywords(strategy: Strategy) -> None:
    first = services.code_theme_create(
        strategy=strategy, label="Street noise", keywords=["Noise", " noise ", "loud  music"]
    )
    second = services.code_theme_create(
        strategy=strategy, label="Street noise", description="Noise at night"
    )
    assert (first.key, second.key) == ("street-noise", "street-noise-2")
    assert first.keywords == ["noise", "loud music"]


def test_code_update_refuses_codes_that_come_from_the_strategy(
    codebook: dict[str, Code],
) -> None:
    with pytest.raises(ValidationError, match="comes from the strategy"):
        services.code_update(code=codebook["PLACES"], label="Places")


def test_code_update_refuses_to_leave_a_theme_uncodable(strategy: Strategy) -> None:
    theme = services.code_theme_create(strategy=strategy, label="Noise", keywords=["noise"])
    with pytest.raises(ValidationError, match="needs a description"):
        services.code_update(code=theme, keywords=[])
    theme.refresh_from_db()
    assert theme.keywords == ["noise"]
    updated = services.code_update(code=theme, description="Noise at night", keywords=[])
    assert updated.keywords == []


# --- coding runs ------------------------------------------------------------------------------


def test_a_run_needs_a_codebook(strategy: Strategy) -> None:
    item(strategy, LIGHTS)
    with pytest.raises(ValidationError, match="codebook is empty"):
        services.coding_run_start(strategy=strategy)
    assert not CodingRun.objects.exists()


def test_a_run_codes_published_and_pending_items_only(
    strategy: Strategy, codebook: dict[str, Code]
) -> None:
    published = item(strategy, LIGHTS)
    pending = item(strategy, POLICE, status="pending")
    rejected = item(strategy, LIGHTS, status="rejected")
    wordless = item(strategy, " ?! ")
    result = services.coding_run_start(strategy=strategy)
    assert result.run.n_items == 2
    assert result.run.metrics["n_skipped_without_words"] == 1
    assert set(ItemCoding.objects.values_list("item_id", flat=True)) == {published.pk, pending.pk}
    assert "PLACES" in machine_keys(published)
    assert "RESPONSE" in machine_keys(pending)
    assert not machine_keys(rejected)
    assert not machine_keys(wordless)


def test_a_comment_in_another_language_is_kept_and_sent_to_a_person_first(
    strategy: Strategy, codebook: dict[str, Code]
) -> None:
    english = item(strategy, LIGHTS)
    spanish = item(strategy, "Necesitamos más luces en el parque y que la policía venga más")
    korean = item(strategy, "밤에 공원을 걸을 때 안전하지 않다고 느낍니다")
    result = services.coding_run_start(strategy=strategy)
    confidence = dict(ItemCoding.objects.values_list("item_id", "confidence"))
    assert set(confidence) == {english.pk, spanish.pk, korean.pk}  # kept, coded
    assert confidence[spanish.pk] <= 0.5
    assert confidence[korean.pk] <= 0.5
    spanish.refresh_from_db()
    korean.refresh_from_db()
    english.refresh_from_db()
    assert (spanish.language, korean.language, english.language) == ("es", "ko", "en")
    assert result.run.metrics["n_other_language"] == 2
    assert result.run.metrics["languages"] == {"en": 1, "es": 1, "ko": 1}


def test_a_run_does_not_overwrite_a_language_already_recorded(
    strategy: Strategy, codebook: dict[str, Code]
) -> None:
    feedback = item(strategy, LIGHTS)
    FeedbackItem.objects.filter(pk=feedback.pk).update(language="vi")
    services.coding_run_start(strategy=strategy)
    feedback.refresh_from_db()
    assert feedback.language == "vi"


def test_a_run_codes_the_redacted_text_when_there_is_one(
    strategy: Strategy, codebook: dict[str, Code]
) -> None:
    feedback = item(strategy, POLICE, redacted=LIGHTS)
    services.coding_run_start(strategy=strategy)
    assert "PLACES" in machine_keys(feedback)
    assert "RESPONSE" not in machine_keys(feedback)


def test_a_run_stores_scores_and_the_words_that_explain_them(
    strategy: Strategy, codebook: dict[str, Code]
) -> None:
    feedback = item(strategy, LIGHTS)
    result = services.coding_run_start(strategy=strategy)
    places = ItemCode.objects.get(item=feedback, origin="machine", code__key="PLACES")
    assert places.run == result.run
    assert places.confidence is not None
    assert places.confidence >= 0.5
    assert "sidewalk" in places.explanation["words"]
    assert 0.5 <= feedback.coding.confidence <= 1.0
    assert result.run.method == "zero-shot"
    assert result.run.seconds is not None
    assert result.run.finished_at is not None


def test_a_new_run_replaces_machine_codes_and_keeps_reviews(
    strategy: Strategy, codebook: dict[str, Code]
) -> None:
    lights, police = item(strategy, LIGHTS), item(strategy, POLICE)
    first = services.coding_run_start(strategy=strategy)
    n_codes = ItemCode.objects.filter(origin="machine").count()
    coder = make_user("strategy_staff")
    services.review_record(item=lights, coder=coder, code_ids=[codebook["REPAIR"].pk])
    second = services.coding_run_start(strategy=strategy)
    machine = ItemCode.objects.filter(origin="machine")
    assert machine.count() == n_codes
    assert set(machine.values_list("run_id", flat=True)) == {second.run.pk}
    assert ItemCoding.objects.count() == 2
    assert set(ItemCoding.objects.values_list("run_id", flat=True)) == {second.run.pk}
    assert not ItemCode.objects.filter(run=first.run).exists()
    human = ItemCode.objects.filter(origin="human")
    assert list(human.values_list("item_id", "code__key")) == [(lights.pk, "REPAIR")]
    assert police.pk not in human.values_list("item_id", flat=True)


def test_a_run_stays_zero_shot_below_the_training_minimum(
    strategy: Strategy, codebook: dict[str, Code]
) -> None:
    texts = [LIGHTS, POLICE, YOUTH]
    items = [item(strategy, text) for text in texts]
    coder = make_user("strategy_staff")
    for feedback in items[:2]:
        services.review_record(item=feedback, coder=coder, code_ids=[codebook["PLACES"].pk])
    run = services.coding_run_start(strategy=strategy, min_reviewed_for_training=3).run
    assert run.method == "zero-shot"
    assert run.n_training_examples == 0
    assert run.metrics["n_reviewed_examples"] == 2


def test_a_run_trains_on_reviews_and_the_shipped_examples_from_the_minimum(
    strategy: Strategy, codebook: dict[str, Code]
) -> None:
    items = [item(strategy, text) for text in (LIGHTS, POLICE, YOUTH)]
    coder = make_user("strategy_staff")
    for feedback, key in zip(items, ["PLACES", "RESPONSE", "PEOPLE"], strict=True):
        services.review_record(item=feedback, coder=coder, code_ids=[codebook[key].pk])
    run = services.coding_run_start(strategy=strategy, min_reviewed_for_training=3).run
    shipped = sum(1 for text in load_examples().texts if text.strip())
    assert run.method == "supervised"
    assert run.n_training_examples == 3 + shipped
    assert run.metrics["n_shipped_examples"] == shipped
    assert set(run.metrics["trained_codes"]) <= {"PLACES", "PEOPLE", "RESPONSE", "REPAIR"}
    places = ItemCode.objects.get(item=items[0], origin="machine", code__key="PLACES")
    assert places.explanation["nearest"]  # a supervised coder names the nearest example


def test_a_run_leaves_out_the_shipped_examples_when_the_goals_are_not_the_shipped_ones(
    strategy: Strategy, codebook: dict[str, Code]
) -> None:
    Goal.objects.filter(version__strategy=strategy, short_name="PLACES").update(short_name="SPACES")
    services.codebook_sync_from_strategy(strategy=strategy)
    items = [item(strategy, text) for text in (LIGHTS, POLICE, YOUTH, LIGHTS + " again")]
    coder = make_user("strategy_staff")
    spaces = Code.objects.get(strategy=strategy, key="SPACES")
    for feedback in items:
        services.review_record(item=feedback, coder=coder, code_ids=[spaces.pk])
    run = services.coding_run_start(strategy=strategy, min_reviewed_for_training=3).run
    assert run.method == "supervised"
    assert run.n_training_examples == 4
    assert run.metrics["n_shipped_examples"] == 0


# --- reviews and settled codes ---------------------------------------------------------------


def test_a_review_replaces_the_coders_own_codes_and_nobody_elses(
    strategy: Strategy, codebook: dict[str, Code]
) -> None:
    feedback = item(strategy, LIGHTS)
    first, second = make_user("strategy_staff"), make_user("admin")
    services.review_record(item=feedback, coder=first, code_ids=[codebook["PLACES"].pk])
    services.review_record(item=feedback, coder=second, code_ids=[codebook["REPAIR"].pk])
    services.review_record(
        item=feedback, coder=first, code_ids=[codebook["PEOPLE"].pk, codebook["youth"].pk]
    )
    human = ItemCode.objects.filter(item=feedback, origin="human")
    assert set(human.filter(coder=first).values_list("code__key", flat=True)) == {
        "PEOPLE",
        "youth",
    }
    assert list(human.filter(coder=second).values_list("code__key", flat=True)) == ["REPAIR"]
    assert Review.objects.filter(item=feedback).count() == 2


def test_a_review_is_accepted_only_when_it_matches_the_suggestion(
    strategy: Strategy, codebook: dict[str, Code]
) -> None:
    feedback = item(strategy, LIGHTS)
    services.coding_run_start(strategy=strategy)
    suggested = list(
        ItemCode.objects.filter(item=feedback, origin="machine").values_list("code_id", flat=True)
    )
    coder = make_user("strategy_staff")
    review = services.review_record(item=feedback, coder=coder, code_ids=suggested)
    assert review.decision == "accepted"
    review = services.review_record(item=feedback, coder=coder, code_ids=[codebook["REPAIR"].pk])
    assert review.decision == "corrected"
    assert Review.objects.filter(item=feedback, coder=coder).count() == 1


def test_a_review_refuses_inactive_or_unknown_codes(
    strategy: Strategy, codebook: dict[str, Code]
) -> None:
    feedback = item(strategy, LIGHTS)
    theme = services.code_theme_create(strategy=strategy, label="Noise", keywords=["noise"])
    services.code_update(code=theme, is_active=False)
    coder = make_user("strategy_staff")
    for code_ids in ([theme.pk], [codebook["PLACES"].pk, 999_999]):
        with pytest.raises(ValidationError, match="Unknown or inactive"):
            services.review_record(item=feedback, coder=coder, code_ids=code_ids)
    assert not Review.objects.exists()
    assert not ItemCode.objects.filter(origin="human").exists()


def test_settled_codes_are_the_latest_review_else_the_machines(
    strategy: Strategy, codebook: dict[str, Code]
) -> None:
    reviewed_twice = item(strategy, LIGHTS)
    unreviewed = item(strategy, POLICE)
    none_applies = item(strategy, YOUTH)
    never_coded = item(strategy, LIGHTS, status="rejected")
    services.coding_run_start(strategy=strategy)
    first, second = make_user("strategy_staff"), make_user("admin")
    services.review_record(item=reviewed_twice, coder=first, code_ids=[codebook["PLACES"].pk])
    services.review_record(
        item=reviewed_twice, coder=second, code_ids=[codebook["REPAIR"].pk, codebook["3.6"].pk]
    )
    services.review_record(item=none_applies, coder=first, code_ids=[])
    settled = selectors.item_codes_settled(
        [reviewed_twice, unreviewed.pk, none_applies, never_coded]
    )
    assert [code.key for code in settled[reviewed_twice.pk]] == ["REPAIR", "3.6"]
    assert {code.key for code in settled[unreviewed.pk]} == machine_keys(unreviewed)
    assert "RESPONSE" in machine_keys(unreviewed)
    assert settled[none_applies.pk] == []
    assert settled[never_coded.pk] == []


def test_settled_codes_take_four_queries_however_many_items(
    strategy: Strategy,
    codebook: dict[str, Code],
    django_assert_num_queries: Any,
) -> None:
    items = [item(strategy, text) for text in (LIGHTS, POLICE, YOUTH) * 20]
    services.coding_run_start(strategy=strategy)
    services.review_record(
        item=items[0], coder=make_user("strategy_staff"), code_ids=[codebook["PEOPLE"].pk]
    )
    with django_assert_num_queries(4):
        settled = selectors.item_codes_settled(items)
    assert len(settled) == 60


def test_settled_counts_agree_with_settled_codes(
    strategy: Strategy, codebook: dict[str, Code]
) -> None:
    items = [item(strategy, text) for text in (LIGHTS, POLICE, YOUTH, LIGHTS)]
    services.coding_run_start(strategy=strategy)
    coder = make_user("strategy_staff")
    services.review_record(item=items[0], coder=coder, code_ids=[codebook["REPAIR"].pk])
    services.review_record(item=items[1], coder=coder, code_ids=[])
    expected: dict[int, int] = {}
    for codes in selectors.item_codes_settled(items).values():
        for code in codes:
            expected[code.pk] = expected.get(code.pk, 0) + 1
    assert selectors.code_counts_settled(strategy) == expected
    assert expected[codebook["REPAIR"].pk] == 1

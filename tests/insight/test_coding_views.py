"""Staff pages for coding feedback: who may use them, the review flow without JavaScript,
agreement figures checked against scikit-learn, candidate themes and the command."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from sklearn.metrics import cohen_kappa_score, f1_score, precision_score, recall_score

from csas.engagement.models import FeedbackItem
from csas.insight import coding_selectors as selectors
from csas.insight import coding_services as services
from csas.insight.models import Code, CodingRun, ItemCode, ItemCoding, Review
from csas.strategy.models import Strategy

BASE = "/manage/insight/coding/"
PAGES = ["", "queue/", "agreement/", "themes/"]
POST_ONLY = ["sync/", "run/", "items/1/review/", "themes/promote/"]
ROLES = [
    ("public", 302),
    ("partner", 403),
    ("department_editor", 403),
    ("strategy_staff", 200),
    ("admin", 200),
]
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


def client_for(user_for: Any, role: str) -> Client:
    client = Client()
    user = user_for(role)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def staff(user_for: Any) -> Client:
    return client_for(user_for, "strategy_staff")


# --- who may do what --------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(("role", "status"), ROLES)
def test_only_the_strategy_office_sees_the_coding_pages(
    user_for: Any, codebook: dict[str, Code], page: str, role: str, status: int
) -> None:
    response = client_for(user_for, role).get(BASE + page)
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("page", POST_ONLY)
@pytest.mark.parametrize("role", [role for role, _ in ROLES])
def test_actions_answer_only_post(user_for: Any, page: str, role: str) -> None:
    assert client_for(user_for, role).get(BASE + page).status_code == 405


@pytest.mark.parametrize(("role", "status"), ROLES[:3])
def test_nobody_outside_the_office_can_sync_run_review_or_add_themes(
    user_for: Any, strategy: Strategy, role: str, status: int
) -> None:
    feedback = item(strategy, LIGHTS)
    client = client_for(user_for, role)
    assert client.post(BASE + "sync/").status_code == status
    assert client.post(BASE + "run/").status_code == status
    assert client.post(
        f"{BASE}items/{feedback.pk}/review/", {"decision": "accept"}
    ).status_code == (status)
    assert client.post(BASE, {"label": "Noise", "keywords": "noise"}).status_code == status
    promote = {"label": "Noise", "keywords": "noise"}
    assert client.post(BASE + "themes/promote/", promote).status_code == status
    assert not Code.objects.exists()
    assert not CodingRun.objects.exists()
    assert not Review.objects.exists()


def test_reviewing_a_rejected_or_missing_item_is_not_found(
    staff: Client, strategy: Strategy, codebook: dict[str, Code]
) -> None:
    rejected = item(strategy, LIGHTS, status="rejected")
    for pk in (rejected.pk, 999_999):
        response = staff.post(f"{BASE}items/{pk}/review/", {"decision": "accept"})
        assert response.status_code == 404
    assert not Review.objects.exists()


# --- codebook page ---------------------------------------------------------------------------


def test_staff_sync_the_codebook_and_run_the_coding_from_the_codebook_page(
    staff: Client, strategy: Strategy
) -> None:
    item(strategy, LIGHTS)
    response = staff.post(BASE + "sync/", follow=True)
    assert "34 codes added" in response.content.decode()
    response = staff.post(BASE + "run/", follow=True)
    page = response.content.decode()
    assert "Coded 1 comments" in page
    assert "zero-shot, from the codebook" in page
    run = CodingRun.objects.get()
    assert run.started_by is not None
    assert run.n_items == 1


def test_running_with_an_empty_codebook_says_what_to_do(staff: Client, strategy: Strategy) -> None:
    item(strategy, LIGHTS)
    response = staff.post(BASE + "run/", follow=True)
    assert "The codebook is empty" in response.content.decode()
    assert not CodingRun.objects.exists()


def test_the_codebook_page_counts_settled_codes(
    staff: Client, user_for: Any, strategy: Strategy, codebook: dict[str, Code]
) -> None:
    lights = item(strategy, LIGHTS)
    item(strategy, LIGHTS + " Also the park.")
    services.coding_run_start(strategy=strategy)
    services.review_record(
        item=lights, coder=user_for("strategy_staff"), code_ids=[codebook["REPAIR"].pk]
    )
    response = staff.get(BASE)
    rows = {code.key: count for code, count in response.context["rows"]}
    assert rows["REPAIR"] == 1
    assert rows["PLACES"] == 1  # the reviewer took PLACES off the first comment


def test_staff_add_a_theme_on_the_codebook_page(staff: Client, strategy: Strategy) -> None:
    response = staff.post(
        BASE, {"label": "Street noise", "keywords": "noise, loud music", "description": ""}
    )
    assert response.status_code == 302
    theme = Code.objects.get(strategy=strategy, kind="theme")
    assert (theme.key, theme.keywords) == ("street-noise", ["noise", "loud music"])


def test_a_theme_with_nothing_to_code_from_is_refused_with_a_message(
    staff: Client, strategy: Strategy
) -> None:
    response = staff.post(BASE, {"label": "Vague", "keywords": " , ", "description": " "})
    assert response.status_code == 400
    assert "Give a description, example phrases or keywords" in response.content.decode()
    assert not Code.objects.filter(kind="theme").exists()


def test_the_codebook_page_takes_a_fixed_number_of_queries(
    staff: Client,
    user_for: Any,
    strategy: Strategy,
    codebook: dict[str, Code],
    django_assert_num_queries: Any,
) -> None:
    items = [item(strategy, text) for text in (LIGHTS, POLICE, YOUTH) * 5]
    services.coding_run_start(strategy=strategy, by=user_for("strategy_staff"))
    services.review_record(item=items[0], coder=user_for("admin"), code_ids=[])
    services.code_theme_create(strategy=strategy, label="Noise", keywords=["noise"])
    staff.get(BASE)  # the session and user are loaded like on any page
    with django_assert_num_queries(7):
        response = staff.get(BASE)
    assert response.status_code == 200


# --- review queue, without JavaScript ---------------------------------------------------------


@pytest.fixture
def coded(strategy: Strategy, codebook: dict[str, Code]) -> list[FeedbackItem]:
    items = [item(strategy, text) for text in (LIGHTS, POLICE, YOUTH)]
    services.coding_run_start(strategy=strategy)
    return sorted(items, key=lambda i: (ItemCoding.objects.get(item=i).confidence, i.pk))


def machine_ids(feedback: FeedbackItem) -> set[int]:
    return set(
        ItemCode.objects.filter(item=feedback, origin="machine").values_list("code_id", flat=True)
    )


def human_ids(feedback: FeedbackItem, coder: Any) -> set[int]:
    return set(
        ItemCode.objects.filter(item=feedback, origin="human", coder=coder).values_list(
            "code_id", flat=True
        )
    )


def test_the_queue_shows_the_least_confident_item_with_its_suggestions_checked(
    staff: Client, coded: list[FeedbackItem]
) -> None:
    response = staff.get(BASE + "queue/")
    assert response.context["item"] == coded[0]
    page = response.content.decode()
    assert "3 comments wait for your review." in page
    for code_id in machine_ids(coded[0]):
        assert f'value="{code_id}" checked' in page
    assert page.count('type="checkbox"') == Code.objects.filter(is_active=True).count()
    assert 'value="accept"' in page
    assert 'value="correct"' in page


def test_accepting_keeps_the_suggested_codes_and_moves_to_the_next_item(
    staff: Client, user_for: Any, coded: list[FeedbackItem]
) -> None:
    first = coded[0]
    response = staff.post(f"{BASE}items/{first.pk}/review/", {"decision": "accept", "codes": []})
    assert response.status_code == 302
    assert response["Location"] == BASE + "queue/"
    review = Review.objects.get(item=first)
    assert review.decision == "accepted"
    assert human_ids(first, user_for("strategy_staff")) == machine_ids(first)
    response = staff.get(BASE + "queue/")
    assert response.context["item"] == coded[1]
    assert response.context["total"] == 2


def test_saving_corrections_stores_the_codes_checked(
    staff: Client, user_for: Any, coded: list[FeedbackItem], codebook: dict[str, Code]
) -> None:
    first = coded[0]
    chosen = [codebook["REPAIR"].pk, codebook["youth"].pk]
    response = staff.post(
        f"{BASE}items/{first.pk}/review/", {"decision": "correct", "codes": chosen}
    )
    assert response.status_code == 302
    assert Review.objects.get(item=first).decision == "corrected"
    assert human_ids(first, user_for("strategy_staff")) == set(chosen)
    assert selectors.item_codes_settled([first])[first.pk] == [
        codebook["REPAIR"],
        codebook["youth"],
    ]


def test_saving_with_nothing_checked_records_that_no_code_applies(
    staff: Client, coded: list[FeedbackItem]
) -> None:
    first = coded[0]
    staff.post(f"{BASE}items/{first.pk}/review/", {"decision": "correct"})
    assert Review.objects.filter(item=first).exists()
    assert selectors.item_codes_settled([first])[first.pk] == []


def test_a_review_with_an_unknown_code_is_not_saved(
    staff: Client, coded: list[FeedbackItem]
) -> None:
    first = coded[0]
    response = staff.post(
        f"{BASE}items/{first.pk}/review/", {"decision": "correct", "codes": [999_999]}, follow=True
    )
    assert "The review was not saved" in response.content.decode()
    assert not Review.objects.exists()


def test_a_review_without_a_decision_is_not_saved(staff: Client, coded: list[FeedbackItem]) -> None:
    staff.post(f"{BASE}items/{coded[0].pk}/review/", {"codes": []})
    assert not Review.objects.exists()


def test_another_persons_review_does_not_hide_the_item_from_me(
    staff: Client, user_for: Any, coded: list[FeedbackItem]
) -> None:
    services.review_record(item=coded[0], coder=user_for("admin"), code_ids=[])
    response = staff.get(BASE + "queue/")
    assert response.context["item"] == coded[0]
    assert response.context["total"] == 3


def test_skipping_shows_the_next_item_and_a_bad_offset_is_harmless(
    staff: Client, coded: list[FeedbackItem]
) -> None:
    assert staff.get(BASE + "queue/?offset=1").context["item"] == coded[1]
    assert staff.get(BASE + "queue/?offset=99").context["item"] == coded[2]
    assert staff.get(BASE + "queue/?offset=-3").context["item"] == coded[0]
    assert staff.get(BASE + "queue/?offset=x").context["item"] == coded[0]


def test_an_empty_queue_says_so(staff: Client, codebook: dict[str, Code]) -> None:
    response = staff.get(BASE + "queue/")
    assert response.context["item"] is None
    assert "Nothing waits for your review" in response.content.decode()


def test_the_queue_takes_a_fixed_number_of_queries(
    staff: Client,
    user_for: Any,
    strategy: Strategy,
    codebook: dict[str, Code],
    django_assert_num_queries: Any,
) -> None:
    [item(strategy, text) for text in (LIGHTS, POLICE, YOUTH) * 10]
    services.coding_run_start(strategy=strategy)
    services.code_theme_create(strategy=strategy, label="Noise", keywords=["noise"])
    staff.get(BASE + "queue/")
    with django_assert_num_queries(7):
        response = staff.get(BASE + "queue/")
    assert response.context["total"] == 30


# --- agreement -------------------------------------------------------------------------------

# Twelve comments: what the machine gave (goal keys) and what two people gave.
MACHINE = [
    {"PLACES"},
    {"PLACES", "PEOPLE"},
    {"RESPONSE"},
    set(),
    {"PLACES"},
    {"REPAIR"},
    {"PEOPLE"},
    {"PLACES", "RESPONSE"},
    {"RESPONSE"},
    {"PEOPLE"},
    {"PLACES"},
    set(),
]
FIRST = [
    {"PLACES"},
    {"PEOPLE"},
    {"RESPONSE"},
    {"REPAIR"},
    {"PLACES"},
    {"REPAIR"},
    {"PEOPLE", "REPAIR"},
    {"PLACES"},
    {"RESPONSE"},
    set(),
    {"PLACES"},
    set(),
]
SECOND = [
    {"PLACES"},
    {"PEOPLE", "PLACES"},
    {"RESPONSE"},
    {"REPAIR"},
    set(),
    {"REPAIR"},
    {"PEOPLE"},
    {"PLACES", "RESPONSE"},
    {"PEOPLE"},
    set(),
    {"PLACES"},
    {"REPAIR"},
]
GOALS = ["PLACES", "PEOPLE", "RESPONSE", "REPAIR"]


@pytest.fixture
def agreement_fixture(
    strategy: Strategy, codebook: dict[str, Code], user_for: Any
) -> tuple[Any, Any]:
    """Twelve machine-coded items; the first person reviews them all, then the second (whose
    reviews are therefore the latest)."""
    run = CodingRun.objects.create(strategy=strategy, method="zero-shot", n_items=12)
    first, second = user_for("strategy_staff"), user_for("admin")
    items = [item(strategy, f"Comment number {n} about safety.") for n in range(12)]
    for feedback, given in zip(items, MACHINE, strict=True):
        ItemCoding.objects.create(item=feedback, run=run, confidence=0.7)
        for key in given:
            ItemCode.objects.create(item=feedback, code=codebook[key], origin="machine", run=run)
    for coder, codings in ((first, FIRST), (second, SECOND)):
        for feedback, given in zip(items, codings, strict=True):
            services.review_record(
                item=feedback, coder=coder, code_ids=[codebook[k].pk for k in given]
            )
    return first, second


def column(codings: list[set[str]], key: str) -> list[int]:
    return [int(key in given) for given in codings]


def test_agreement_of_the_model_with_people_matches_scikit_learn(
    agreement_fixture: tuple[Any, Any],
    strategy: Strategy,
) -> None:
    summary = selectors.coding_agreement(strategy)
    assert summary.model.enough
    assert summary.model.n == 12
    rows = {row.code.key: row for row in summary.model.rows}
    assert list(rows) == GOALS
    for key in GOALS:
        machine, people = column(MACHINE, key), column(SECOND, key)
        row = rows[key]
        assert row.n == 12
        assert row.kappa == pytest.approx(cohen_kappa_score(machine, people))
        assert row.precision == pytest.approx(precision_score(people, machine))
        assert row.recall == pytest.approx(recall_score(people, machine))
        assert row.f1 == pytest.approx(f1_score(people, machine))
        assert (row.n_first, row.n_reference) == (sum(machine), sum(people))


def test_agreement_between_two_people_matches_scikit_learn(
    agreement_fixture: tuple[Any, Any], strategy: Strategy
) -> None:
    first, second = agreement_fixture
    summary = selectors.coding_agreement(strategy)
    (pair,) = summary.pairs
    assert {pair.first, pair.second} == {first.username, second.username}
    assert pair.n == 12
    assert pair.enough
    rows = {row.code.key: row for row in pair.rows}
    assert list(rows) == GOALS
    a, b = (FIRST, SECOND) if pair.first == first.username else (SECOND, FIRST)
    for key in GOALS:
        assert rows[key].kappa == pytest.approx(cohen_kappa_score(column(a, key), column(b, key)))


def test_the_agreement_page_shows_the_figures(
    agreement_fixture: tuple[Any, Any], staff: Client
) -> None:
    page = staff.get(BASE + "agreement/").content.decode()
    kappa = cohen_kappa_score(column(MACHINE, "PLACES"), column(SECOND, "PLACES"))
    assert f"{kappa:.2f}" in page
    assert "Not enough items" not in page


def test_agreement_under_the_minimum_says_not_enough_items(
    staff: Client, user_for: Any, strategy: Strategy, coded: list[FeedbackItem]
) -> None:
    for coder in (user_for("strategy_staff"), user_for("admin")):
        for feedback in coded:
            services.review_record(item=feedback, coder=coder, code_ids=[])
    summary = selectors.coding_agreement(strategy)
    assert summary.model.n == 3
    assert not summary.model.enough
    assert not summary.model.rows
    assert [(pair.n, pair.enough) for pair in summary.pairs] == [(3, False)]
    page = staff.get(BASE + "agreement/").content.decode()
    assert page.count("Not enough items") == 2


def test_agreement_with_no_reviews_shows_no_pairs(staff: Client, coded: list[FeedbackItem]) -> None:
    page = staff.get(BASE + "agreement/").content.decode()
    assert "No comment has been reviewed by two people yet." in page


# --- candidate themes -------------------------------------------------------------------------

NOISE = [
    "Loud music from the bar every night keeps the whole street awake",
    "The bar plays loud music until three in the morning every night",
    "Noise from loud music at the bar on our street every night",
    "Barking dogs next door bark all day and all night long",
    "The neighbours barking dogs never stop barking all day",
    "Barking dogs in the yard next door bark day and night",
]


def test_candidate_themes_group_uncoded_comments_and_quote_only_redacted_text(
    staff: Client, strategy: Strategy, codebook: dict[str, Code]
) -> None:
    for text in NOISE:
        item(strategy, text + " says Jane Doe", redacted=text)
    item(strategy, "Loud music and barking dogs, call me on 253-555-0100")  # not redacted yet
    services.coding_run_start(strategy=strategy)
    response = staff.get(BASE + "themes/")
    page = response.content.decode()
    candidates = response.context["candidates"]
    assert candidates.result is not None
    assert candidates.n_items == 6
    assert candidates.n_without_redaction == 1
    assert "Jane Doe" not in page
    assert "253-555-0100" not in page
    assert NOISE[0] in page or NOISE[1] in page or NOISE[2] in page
    assert "Promote group 1 to the codebook" in page


def test_candidate_themes_leave_out_confidently_coded_and_reviewed_comments(
    staff: Client, user_for: Any, strategy: Strategy, codebook: dict[str, Code]
) -> None:
    reviewed = item(strategy, NOISE[0], redacted=NOISE[0])
    services.coding_run_start(strategy=strategy)
    services.review_record(
        item=reviewed, coder=user_for("strategy_staff"), code_ids=[codebook["PLACES"].pk]
    )
    candidates = selectors.theme_candidates(strategy)
    assert candidates.n_items == 0
    assert candidates.result is None
    page = staff.get(BASE + "themes/").content.decode()
    assert "Not enough comments to group into themes." in page


def test_candidate_themes_cluster_at_most_the_limit_uncovered_comments_first(
    strategy: Strategy, codebook: dict[str, Code], monkeypatch: Any
) -> None:
    covered = item(strategy, "Street lights", redacted="Street lights")
    for text in NOISE:
        item(strategy, text, redacted=text)
    services.coding_run_start(strategy=strategy)
    ItemCoding.objects.filter(item=covered).update(confidence=0.55)  # low, but coded
    monkeypatch.setattr(selectors, "THEME_ITEMS_LIMIT", 4)
    candidates = selectors.theme_candidates(strategy)
    assert (candidates.n_items, candidates.n_wanted) == (4, 7)
    assert candidates.result is not None
    clustered = {member for theme in candidates.result.themes for member in theme.members} | set(
        candidates.result.excluded
    )
    assert clustered == {0, 1, 2, 3}
    assert covered.pk not in {
        quote.id for theme in candidates.result.themes for quote in theme.quotes
    }


def test_promoting_a_candidate_theme_adds_it_to_the_codebook(
    staff: Client, strategy: Strategy
) -> None:
    response = staff.post(
        BASE + "themes/promote/",
        {
            "prefix": "theme-0",
            "theme-0-label": "Noise at night",
            "theme-0-keywords": "loud music, barking dogs",
            "theme-0-description": "",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == BASE
    theme = Code.objects.get(strategy=strategy, kind="theme")
    assert (theme.label, theme.keywords) == ("Noise at night", ["loud music", "barking dogs"])


@pytest.mark.parametrize(
    "data",
    [
        {"prefix": "theme-0", "theme-0-label": "", "theme-0-keywords": "noise"},
        {"prefix": "theme-0", "theme-0-label": "Noise", "theme-0-keywords": " , "},
        {"prefix": "../evil", "label": "", "keywords": ""},
    ],
)
def test_a_promotion_without_a_name_or_keywords_is_refused(
    staff: Client, strategy: Strategy, data: dict[str, str]
) -> None:
    response = staff.post(BASE + "themes/promote/", data, follow=True)
    assert "The theme was not added" in response.content.decode()
    assert not Code.objects.filter(kind="theme").exists()


# --- command ----------------------------------------------------------------------------------


def test_the_command_syncs_the_codebook_and_codes_the_feedback(strategy: Strategy) -> None:
    item(strategy, LIGHTS)
    out = StringIO()
    call_command("code_feedback", "--strategy", "tacoma-csas", "--sync-codebook", stdout=out)
    text = out.getvalue()
    assert "34 codes added" in text
    assert "Coded 1 feedback items of tacoma-csas" in text
    assert "PLACES 1" in text
    assert CodingRun.objects.count() == 1


def test_the_command_refuses_an_unknown_strategy(db: Any) -> None:
    with pytest.raises(CommandError, match="no strategy 'nowhere'"):
        call_command("code_feedback", "--strategy", "nowhere", stdout=StringIO())


def test_the_command_syncs_an_empty_codebook_even_without_the_flag(strategy: Strategy) -> None:
    out = StringIO()
    call_command("code_feedback", stdout=out)
    assert "34 codes added" in out.getvalue()
    assert "No code was given to any item." in out.getvalue()


# --- admin ------------------------------------------------------------------------------------


def test_admins_edit_themes_in_the_admin_but_not_codes_from_the_strategy(
    user_for: Any, strategy: Strategy, codebook: dict[str, Code]
) -> None:
    theme = services.code_theme_create(strategy=strategy, label="Noise", keywords=["noise"])
    client = client_for(user_for, "admin")
    assert client.get("/admin/insight/code/").status_code == 200
    response = client.post(
        f"/admin/insight/code/{theme.pk}/change/",
        {
            "label": "Noise at night",
            "description": "",
            "examples": "[]",
            "keywords": '["noise", "Loud Music"]',
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    theme.refresh_from_db()
    assert (theme.label, theme.keywords) == ("Noise at night", ["noise", "loud music"])
    places = codebook["PLACES"]
    client.post(f"/admin/insight/code/{places.pk}/change/", {"label": "Renamed"})
    places.refresh_from_db()
    assert places.label == "Safe PLACES and Neighborhoods"


@pytest.mark.parametrize("role", ["partner", "department_editor"])
def test_the_coding_admin_is_closed_outside_the_office(user_for: Any, role: str) -> None:
    response = client_for(user_for, role).get("/admin/insight/code/")
    assert response.status_code in (302, 403)

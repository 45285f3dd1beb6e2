"""The "What we heard" report: figures from settled codes, quotes, publishing, pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from csas.accounts.models import User
from csas.engagement.models import FeedbackItem, ModerationStatus
from csas.insight import heard_selectors
from csas.insight.heard_selectors import heard_report_figures
from csas.insight.heard_services import (
    heard_quote_add,
    heard_report_create,
    heard_report_publish,
    heard_report_unpublish,
    heard_report_update,
)
from csas.insight.models import Code, CodingRun, HeardQuote, HeardReport, ItemCode, Review
from csas.strategy.models import Action, City, Goal, Strategy, StrategyVersion

THRESHOLD = 10
PREVIEW_QUERIES = 15
PICKER_QUERIES = 12
SURVEY_SPEAKER = {
    "council_district": "1",
    "race_ethnicity": ["white"],
    "age": "age_25_34",
}


@dataclass
class Spec:
    """One feedback item of the fixture and how it is coded."""

    text: str
    source: str = "staff_note"
    status: str = ModerationStatus.PUBLISHED
    machine: tuple[str, ...] = ()
    # the human codes of the item's reviews, oldest first: (coder name, codes)
    reviews: tuple[tuple[str, tuple[str, ...]], ...] = ()
    demographics: dict[str, Any] = field(default_factory=dict)


def _specs() -> list[Spec]:
    specs: list[Spec] = []
    specs += [
        Spec(
            f"Better street lights on our block, please ({n}).",
            "survey_answer",
            machine=("goal1",),
            demographics=SURVEY_SPEAKER,
        )
        for n in range(14)
    ]
    specs += [
        Spec(f"Sidewalks need repair near the school ({n}).", machine=("goal1", "theme"))
        for n in range(3)
    ]
    specs += [
        Spec(
            f"Crisis responders instead of police for mental health ({n}).",
            "import",
            machine=("action",),
        )
        for n in range(12)
    ]
    specs += [Spec(f"Youth programs after school ({n}).", machine=("goal2",)) for n in range(4)]
    specs += [Spec(f"Lighting in the park at night ({n}).", machine=("theme",)) for n in range(9)]
    specs += [
        Spec("Pending comment about lights.", status=ModerationStatus.PENDING, machine=("goal1",)),
        Spec(
            "Rejected comment about lights.", status=ModerationStatus.REJECTED, machine=("goal1",)
        ),
        # reviewed: a person's codes replace the machine's
        Spec(
            "Reviewed: really about services for youth.",
            machine=("goal1",),
            reviews=(("coder-a", ("goal2",)),),
        ),
        # reviewed twice: the latest review wins; reviewed with no code means none applies
        Spec(
            "Reviewed twice.",
            machine=("goal4",),
            reviews=(("coder-a", ("goal4",)), ("coder-b", ())),
        ),
    ]
    return specs


def expected_counts(specs: list[Spec], goal_of: dict[str, str]) -> dict[str, int]:
    """Counts per code key computed straight from the specs: approved items, the latest
    review's codes else the machine's; a goal also counts its actions' items."""
    counts: dict[str, int] = {}
    for spec in specs:
        if spec.status != ModerationStatus.PUBLISHED:
            continue
        codes = set(spec.reviews[-1][1]) if spec.reviews else set(spec.machine)
        codes |= {goal_of[code] for code in codes if code in goal_of}
        for code in codes:
            counts[code] = counts.get(code, 0) + 1
    return counts


@pytest.fixture
def strategy(db: Any) -> Strategy:
    return Strategy.objects.get()


@pytest.fixture
def codebook(strategy: Strategy, published_version: StrategyVersion) -> dict[str, Code]:
    codes: dict[str, Code] = {}
    for goal in Goal.objects.filter(version=published_version).order_by("number"):
        codes[f"goal{goal.number}"] = Code.objects.create(
            strategy=strategy,
            kind="goal",
            key=goal.short_name,
            label=goal.title,
            goal=goal,
            order=goal.number,
        )
    action = Action.objects.get(version=published_version, slug="3-6")
    codes["action"] = Code.objects.create(
        strategy=strategy,
        kind="action",
        key=action.code,
        label=action.title,
        action=action,
        parent=codes["goal3"],
    )
    codes["theme"] = Code.objects.create(
        strategy=strategy, kind="theme", key="lighting", label="Street lighting"
    )
    return codes


@dataclass
class Coded:
    specs: list[Spec]
    items: list[FeedbackItem]
    codes: dict[str, Code]

    def expected(self) -> dict[str, int]:
        return expected_counts(self.specs, {"action": "goal3"})


def make_item(strategy: Strategy, spec: Spec) -> FeedbackItem:
    return FeedbackItem.objects.create(
        strategy=strategy,
        source=spec.source,
        text=spec.text,
        redacted_text=spec.text,
        status=spec.status,
        language="en",
        speaker_demographics=spec.demographics,
    )


def code_items(
    strategy: Strategy, codes: dict[str, Code], specs: list[Spec], users: dict[str, User]
) -> list[FeedbackItem]:
    run = CodingRun.objects.create(strategy=strategy)
    items = []
    for spec in specs:
        item = make_item(strategy, spec)
        for key in spec.machine:
            ItemCode.objects.create(item=item, code=codes[key], origin="machine", run=run)
        for order, (coder_name, human) in enumerate(spec.reviews):
            review = Review.objects.create(item=item, coder=users[coder_name], decision="corrected")
            # reviewed_at is auto_now: order the reviews explicitly
            Review.objects.filter(pk=review.pk).update(
                reviewed_at=timezone.now() + timezone.timedelta(minutes=order)
            )
            for key in human:
                ItemCode.objects.create(
                    item=item, code=codes[key], origin="human", coder=users[coder_name]
                )
        items.append(item)
    return items


@pytest.fixture
def coders(user_for: Callable[[str], User | None]) -> dict[str, User]:
    from tests.conftest import make_user

    return {
        "coder-a": make_user("strategy_staff", "coder-a"),
        "coder-b": make_user("strategy_staff", "coder-b"),
    }


@pytest.fixture
def coded(strategy: Strategy, codebook: dict[str, Code], coders: dict[str, User]) -> Coded:
    specs = _specs()
    return Coded(specs, code_items(strategy, codebook, specs, coders), codebook)


def _goal(figures: dict[str, Any], number: int) -> dict[str, Any]:
    return next(goal for goal in figures["goals"] if goal["number"] == number)


def _staff(user_for: Callable[[str], User | None]) -> Client:
    client = Client()
    client.force_login(user_for("strategy_staff"))
    return client


# --- figures ------------------------------------------------------------------------------------


def test_figures_count_settled_codes_of_approved_items_only(coded: Coded) -> None:
    figures = heard_report_figures(Strategy.objects.get())
    expected = coded.expected()
    assert expected == {"goal1": 17, "goal2": 5, "goal3": 12, "action": 12, "theme": 12}
    assert _goal(figures, 1)["count"] == expected["goal1"]
    assert _goal(figures, 3)["count"] == expected["goal3"]
    assert _goal(figures, 3)["actions"][0]["count"] == expected["action"]
    assert _goal(figures, 4)["count"] == 0  # reviewed to "no code applies"
    [theme] = figures["themes"]
    assert theme["count"] == expected["theme"]
    approved = sum(1 for spec in coded.specs if spec.status == ModerationStatus.PUBLISHED)
    assert figures["items"]["count"] == approved


def test_a_later_review_replaces_the_machine_codes_and_earlier_reviews(coded: Coded) -> None:
    settled = heard_selectors._settled_codes(Strategy.objects.get())
    reviewed = next(i for i in coded.items if i.text.startswith("Reviewed: really"))
    twice = next(i for i in coded.items if i.text == "Reviewed twice.")
    assert settled[reviewed.pk] == {coded.codes["goal2"].pk}
    assert twice.pk not in settled  # the latest reviewer found no code applies


def test_counts_under_the_threshold_are_hidden_with_their_giveaways(coded: Coded) -> None:
    figures = heard_report_figures(Strategy.objects.get())
    goal2 = _goal(figures, 2)
    assert goal2["count"] is None
    assert goal2["suppressed"]
    assert all(cell["count"] is None for cell in goal2["by_source"])
    goal1 = _goal(figures, 1)
    sources = {cell["source"]: cell for cell in goal1["by_source"]}
    assert sources["staff_note"]["suppressed"]  # 3 staff notes
    # 14 survey answers would give the 3 away from the total of 17
    assert sources["survey_answer"]["suppressed"]
    assert sources["import"]["count"] == 0
    districts = next(t for t in goal1["speakers"] if t["dimension"] == "council_district")
    rows = {row["category"]: row for row in districts["rows"]}
    # the 3 staff notes' speakers are not recorded; the 14 would give them away
    assert rows[heard_selectors.NOT_RECORDED]["suppressed"]
    assert rows["Council District 1"]["suppressed"]
    assert rows["Council District 2"]["count"] == 0  # an empty cell singles out nobody
    goal3 = _goal(figures, 3)
    race = next(t for t in goal3["speakers"] if t["dimension"] == "race_ethnicity")
    assert {row["category"]: row["count"] for row in race["rows"]}[
        heard_selectors.NOT_RECORDED
    ] == 12


def test_figures_without_a_codebook_have_no_goals_and_count_items(strategy: Strategy) -> None:
    make_item(strategy, Spec("Only comment."))
    figures = heard_report_figures(strategy)
    assert figures["goals"] == []
    assert figures["items"]["suppressed"]


# --- quotes -------------------------------------------------------------------------------------


@pytest.fixture
def report(strategy: Strategy) -> HeardReport:
    return heard_report_create(
        strategy=strategy, title="What we heard in 2026", introduction="Thank you."
    )


def test_a_quote_must_be_an_exact_part_of_the_approved_text(
    coded: Coded, report: HeardReport
) -> None:
    item = coded.items[0]
    with pytest.raises(ValidationError) as error:
        heard_quote_add(
            report=report, item=item, code=coded.codes["goal1"], excerpt="better street lights"
        )
    assert "excerpt" in error.value.message_dict
    assert "not in it" in error.value.message_dict["excerpt"][0]


def test_a_quote_of_a_pending_or_rejected_comment_is_refused(
    coded: Coded, report: HeardReport
) -> None:
    for status in (ModerationStatus.PENDING, ModerationStatus.REJECTED):
        item = next(i for i in coded.items if i.status == status)
        with pytest.raises(ValidationError) as error:
            heard_quote_add(
                report=report, item=item, code=coded.codes["goal1"], excerpt="comment about"
            )
        assert "not been approved" in error.value.message_dict["item"][0]


def test_a_quote_cannot_carry_words_the_moderator_redacted(
    strategy: Strategy, codebook: dict[str, Code], report: HeardReport
) -> None:
    item = make_item(strategy, Spec("Call me at 253-555-0100 about the lights."))
    item.redacted_text = "Call me at [phone number] about the lights."
    item.save()
    run = CodingRun.objects.create(strategy=strategy)
    ItemCode.objects.create(item=item, code=codebook["goal1"], origin="machine", run=run)
    with pytest.raises(ValidationError):
        heard_quote_add(report=report, item=item, code=codebook["goal1"], excerpt="253-555-0100")
    quote = heard_quote_add(
        report=report, item=item, code=codebook["goal1"], excerpt="  about the lights. "
    )
    assert quote.excerpt == "about the lights."


def test_a_quote_must_be_filed_under_one_of_the_comments_codes(
    coded: Coded, report: HeardReport
) -> None:
    with pytest.raises(ValidationError) as error:
        heard_quote_add(
            report=report, item=coded.items[0], code=coded.codes["goal3"], excerpt="street"
        )
    assert "code" in error.value.message_dict


def test_an_empty_or_repeated_quote_is_refused(coded: Coded, report: HeardReport) -> None:
    item, goal1 = coded.items[0], coded.codes["goal1"]
    with pytest.raises(ValidationError):
        heard_quote_add(report=report, item=item, code=goal1, excerpt="   ")
    heard_quote_add(report=report, item=item, code=goal1, excerpt="street lights")
    with pytest.raises(ValidationError):
        heard_quote_add(report=report, item=item, code=goal1, excerpt="our block")


def test_translations_only_for_the_sites_languages(report: HeardReport) -> None:
    with pytest.raises(ValidationError):
        heard_report_update(report=report, translations={"xx": {"title": "?"}})
    with pytest.raises(ValidationError):
        heard_report_update(report=report, translations={"es": {"body": "?"}})
    report = heard_report_update(report=report, translations={"es": {"title": "Lo que escuchamos"}})
    assert report.translations == {"es": {"title": "Lo que escuchamos"}}


# --- publishing and the public page -------------------------------------------------------------


def _published(coded: Coded, report: HeardReport, by: User | None = None) -> HeardReport:
    heard_quote_add(
        report=report,
        item=coded.items[0],
        code=coded.codes["goal1"],
        excerpt="Better street lights on our block",
    )
    return heard_report_publish(report=report, by=by)


def _numbers_in(table_caption: str, page: str) -> list[str]:
    table = page.split(f"<caption>{table_caption}</caption>", 1)[1].split("</table>", 1)[0]
    return re.findall(r"<td>([^<]*)</td>", table)


def test_the_public_page_shows_the_counts_computed_from_the_codes(
    coded: Coded, report: HeardReport, django_assert_num_queries: Any
) -> None:
    _published(coded, report)
    expected = coded.expected()
    # the strategy, its published version, the report
    with django_assert_num_queries(3):
        page = Client().get(f"/what-we-heard/{report.slug}/").content.decode()
    assert _numbers_in("Comments by goal", page) == [
        str(expected["goal1"]),
        "fewer than 10",
        str(expected["goal3"]),
        "0",
    ]
    assert _numbers_in("Goal 3: comments by action", page) == [str(expected["action"])]
    assert _numbers_in("Themes, by number of comments", page) == [str(expected["theme"])]
    assert "Better street lights on our block" in page
    assert "<svg" in page  # the bar chart, with the table above beside it


def test_the_latest_published_report_is_at_what_we_heard(
    coded: Coded, report: HeardReport, strategy: Strategy
) -> None:
    _published(coded, report)
    older = heard_report_create(strategy=strategy, title="Draft for next year")
    page = Client().get("/what-we-heard/").content.decode()
    assert "What we heard in 2026" in page
    assert older.title not in page


def test_drafts_are_not_found_publicly(report: HeardReport) -> None:
    client = Client()
    for url in (
        f"/what-we-heard/{report.slug}/",
        f"/what-we-heard/{report.slug}.pdf",
        "/what-we-heard/no-such-report/",
    ):
        assert client.get(url).status_code == 404, url


def test_before_any_report_is_published_the_page_says_so_and_hides_drafts(
    report: HeardReport,
) -> None:
    page = Client().get("/what-we-heard/")
    assert page.status_code == 200
    assert "has not published a report" in page.content.decode()
    assert report.title not in page.content.decode()


def test_an_unpublished_report_is_no_longer_public(coded: Coded, report: HeardReport) -> None:
    _published(coded, report)
    assert Client().get(f"/what-we-heard/{report.slug}/").status_code == 200
    report = heard_report_unpublish(report=report)
    assert Client().get(f"/what-we-heard/{report.slug}/").status_code == 404
    assert report.snapshot == {}


def test_the_snapshot_does_not_change_with_later_data_until_published_again(
    coded: Coded, report: HeardReport, strategy: Strategy
) -> None:
    _published(coded, report)
    url = f"/what-we-heard/{report.slug}/"
    before = _numbers_in("Comments by goal", Client().get(url).content.decode())
    code_items(
        strategy,
        coded.codes,
        [Spec(f"More patrols downtown ({n}).", machine=("goal3",)) for n in range(20)],
        {},
    )
    heard_report_update(report=report, title="Renamed after publishing")
    page = Client().get(url).content.decode()
    assert _numbers_in("Comments by goal", page) == before
    assert "What we heard in 2026" in page
    assert "Renamed after publishing" not in page
    heard_report_publish(report=report, by=None)
    after = _numbers_in("Comments by goal", Client().get(url).content.decode())
    assert after[2] == str(coded.expected()["goal3"] + 20)


def test_publishing_is_refused_when_a_quoted_comment_was_rejected_since(
    coded: Coded, report: HeardReport
) -> None:
    _published(coded, report)
    FeedbackItem.objects.filter(pk=coded.items[0].pk).update(status=ModerationStatus.REJECTED)
    with pytest.raises(ValidationError) as error:
        heard_report_publish(report=report, by=None)
    assert "Better street lights" in error.value.messages[0]


def test_the_public_page_is_in_spanish_with_an_english_fallback(
    coded: Coded, report: HeardReport
) -> None:
    heard_report_update(report=report, translations={"es": {"title": "Lo que escuchamos"}})
    _published(coded, report)
    page = Client().get(f"/es/what-we-heard/{report.slug}/").content.decode()
    assert "Lo que escuchamos" in page
    assert '<p lang="en">Thank you.</p>' in page  # introduction not translated
    assert "aún no se ha traducido" in page  # the notice of untranslated content


def test_the_pdf_is_drawn_once_and_then_served_from_the_cache(
    coded: Coded, report: HeardReport, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    from csas.progress import report_views

    calls: list[str] = []
    monkeypatch.setattr(
        report_views, "pdf_from_html", lambda html, **kw: calls.append(html) or b"%PDF-1.7 fake"
    )
    _published(coded, report)
    settings.REPORT_PDFS_PER_HOUR = 1
    client = Client()
    first = client.get(f"/what-we-heard/{report.slug}.pdf")
    assert first.status_code == 200
    assert first["Content-Type"] == "application/pdf"
    assert first["Content-Disposition"] == (
        f'inline; filename="tacoma-csas-what-we-heard-{report.slug}-en.pdf"'
    )
    assert client.get(f"/what-we-heard/{report.slug}.pdf").status_code == 200
    assert len(calls) == 1
    assert "Better street lights on our block" in calls[0]
    # a new drawing (another language) past the client's limit is refused
    assert client.get(f"/es/what-we-heard/{report.slug}.pdf").status_code == 429


def test_the_pdf_is_a_real_pdf(coded: Coded, report: HeardReport) -> None:
    _published(coded, report)
    response = Client().get(f"/what-we-heard/{report.slug}.pdf")
    assert response.content.startswith(b"%PDF")


# --- staff pages ----------------------------------------------------------------------------------

STAFF_ROLES = [
    ("public", 302),
    ("partner", 403),
    ("department_editor", 403),
    ("strategy_staff", 200),
    ("admin", 200),
]


@pytest.mark.parametrize(("role", "status"), STAFF_ROLES)
def test_staff_pages_are_for_the_strategy_office(
    report: HeardReport, codebook: dict[str, Code], user_for: Any, role: str, status: int
) -> None:
    client = Client()
    if user_for(role):
        client.force_login(user_for(role))
    for url in (
        "/manage/insight/heard/",
        f"/manage/insight/heard/{report.pk}/",
        f"/manage/insight/heard/{report.pk}/quotes/?code={codebook['goal1'].pk}",
    ):
        assert client.get(url).status_code == status, url


@pytest.mark.parametrize(("role", "status"), STAFF_ROLES)
def test_publishing_is_for_the_strategy_office(
    report: HeardReport, user_for: Any, role: str, status: int
) -> None:
    client = Client()
    if user_for(role):
        client.force_login(user_for(role))
    response = client.post(f"/manage/insight/heard/{report.pk}/publish/")
    assert response.status_code == (302 if status == 200 else status)
    report.refresh_from_db()
    assert (report.status == "published") == (status == 200)


def test_publish_and_unpublish_take_post_only(report: HeardReport, user_for: Any) -> None:
    client = _staff(user_for)
    for action in ("publish", "unpublish"):
        assert client.get(f"/manage/insight/heard/{report.pk}/{action}/").status_code == 405


def test_staff_create_a_draft_that_is_not_public(strategy: Strategy, user_for: Any) -> None:
    client = _staff(user_for)
    response = client.post("/manage/insight/heard/", {"title": "Spring listening"})
    report = HeardReport.objects.get(title="Spring listening")
    assert response.status_code == 302
    assert response["Location"] == f"/manage/insight/heard/{report.pk}/"
    assert report.status == "draft"
    assert report.slug == "spring-listening"
    assert Client().get("/what-we-heard/spring-listening/").status_code == 404


def test_another_strategys_report_is_not_found_for_staff(
    report: HeardReport, user_for: Any
) -> None:
    other = Strategy.objects.create(city=City.objects.get(), slug="other", name="Other")
    foreign = heard_report_create(strategy=other, title="Elsewhere")
    client = _staff(user_for)
    assert client.get(f"/manage/insight/heard/{foreign.pk}/").status_code == 404
    assert client.post(f"/manage/insight/heard/{foreign.pk}/publish/").status_code == 404


def test_the_quote_picker_lists_comments_coded_to_the_code_and_adds_a_quote(
    coded: Coded, report: HeardReport, user_for: Any
) -> None:
    client = _staff(user_for)
    goal1 = coded.codes["goal1"]
    url = f"/manage/insight/heard/{report.pk}/quotes/?code={goal1.pk}"
    page = client.get(url).content.decode()
    assert "17 approved comments coded" in page
    assert "Pending comment about lights." not in page
    item = coded.items[0]
    response = client.post(
        url, {"item": item.pk, "code": goal1.pk, "excerpt": "street lights on our block"}
    )
    assert response.status_code == 302
    assert HeardQuote.objects.get(report=report).excerpt == "street lights on our block"


def test_the_quote_picker_says_why_a_quote_is_refused(
    coded: Coded, report: HeardReport, user_for: Any
) -> None:
    client = _staff(user_for)
    goal1 = coded.codes["goal1"]
    response = client.post(
        f"/manage/insight/heard/{report.pk}/quotes/?code={goal1.pk}",
        {"item": coded.items[0].pk, "code": goal1.pk, "excerpt": "words nobody wrote"},
    )
    assert response.status_code == 400
    assert "must be copied exactly" in response.content.decode()
    assert not HeardQuote.objects.exists()


def test_the_quote_picker_will_not_quote_another_strategys_comment(
    coded: Coded, report: HeardReport, user_for: Any
) -> None:
    other = Strategy.objects.create(city=City.objects.get(), slug="other", name="Other")
    foreign = make_item(other, Spec("Somewhere else."))
    response = _staff(user_for).post(
        f"/manage/insight/heard/{report.pk}/quotes/?code={coded.codes['goal1'].pk}",
        {"item": foreign.pk, "code": coded.codes["goal1"].pk, "excerpt": "Somewhere"},
    )
    assert response.status_code == 404


def test_staff_preview_shows_live_figures_and_the_publish_button(
    coded: Coded, report: HeardReport, user_for: Any
) -> None:
    page = _staff(user_for).get(f"/manage/insight/heard/{report.pk}/").content.decode()
    assert "Preview with today" in page
    assert _numbers_in("Comments by goal", page)[0] == str(coded.expected()["goal1"])
    assert f'action="/manage/insight/heard/{report.pk}/publish/"' in page


def test_staff_save_translations_of_the_wording(report: HeardReport, user_for: Any) -> None:
    response = _staff(user_for).post(
        f"/manage/insight/heard/{report.pk}/",
        {"title": "What we heard", "introduction": "", "title_es": "Lo que escuchamos"},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.translations == {"es": {"title": "Lo que escuchamos"}}


def test_the_report_list_reads_a_fixed_number_of_queries(
    strategy: Strategy, user_for: Any, django_assert_num_queries: Any
) -> None:
    client = _staff(user_for)
    client.get("/manage/insight/heard/")  # warm the session and permission caches
    for n in range(3):
        heard_report_create(strategy=strategy, title=f"Report {n}")
    with django_assert_num_queries(4):
        assert client.get("/manage/insight/heard/").status_code == 200


def test_the_preview_reads_a_fixed_number_of_queries_whatever_the_data(
    coded: Coded, report: HeardReport, user_for: Any, django_assert_num_queries: Any
) -> None:
    client = _staff(user_for)
    heard_quote_add(
        report=report, item=coded.items[0], code=coded.codes["goal1"], excerpt="street lights"
    )
    url = f"/manage/insight/heard/{report.pk}/"
    client.get(url)  # warm the session and permission caches
    with django_assert_num_queries(PREVIEW_QUERIES):
        assert client.get(url).status_code == 200
    more = [Spec(f"Another note ({n}).", machine=("goal1", "theme")) for n in range(30)]
    code_items(Strategy.objects.get(), coded.codes, more, {})
    with django_assert_num_queries(PREVIEW_QUERIES):
        assert client.get(url).status_code == 200


def test_the_quote_picker_reads_a_fixed_number_of_queries(
    coded: Coded, report: HeardReport, user_for: Any, django_assert_num_queries: Any
) -> None:
    client = _staff(user_for)
    url = f"/manage/insight/heard/{report.pk}/quotes/?code={coded.codes['goal1'].pk}"
    client.get(url)
    with django_assert_num_queries(PICKER_QUERIES):
        assert client.get(url).status_code == 200
    more = [Spec(f"Another note ({n}).", machine=("goal1",)) for n in range(30)]
    code_items(Strategy.objects.get(), coded.codes, more, {})
    with django_assert_num_queries(PICKER_QUERIES):
        assert client.get(url).status_code == 200


def test_the_report_carries_the_surveys_group_differences_and_who_answered(
    strategy: Strategy, codebook: dict[str, Code], report: HeardReport
) -> None:
    from csas.engagement.models import Response
    from csas.insight.demo import insight_demo_load

    insight_demo_load(strategy, responses=150)
    report = heard_report_publish(report=report, by=None)
    [survey] = report.snapshot["figures"]["surveys"]
    assert survey["n"] == Response.objects.filter(status="submitted").count() == 150
    assert {table["dimension"] for table in survey["representation"]} == {
        "council_district",
        "race_ethnicity",
        "age",
    }
    page = Client().get(f"/what-we-heard/{report.slug}/").content.decode()
    assert "Feeling safe, by group" in page
    assert "Who we have and have not heard from" in page
    assert "150 responses." in page


@pytest.mark.parametrize(
    ("role", "status"),
    [("public", 302), ("partner", 403), ("department_editor", 403), ("strategy_staff", 404),
     ("admin", 404)],
)  # fmt: skip
def test_a_missing_report_is_not_found_for_the_office_and_forbidden_to_others(
    db: Any, user_for: Any, role: str, status: int
) -> None:
    client = Client()
    if user_for(role):
        client.force_login(user_for(role))
    for url in ("/manage/insight/heard/999999/", "/manage/insight/heard/999999/quotes/"):
        assert client.get(url).status_code == status, url
    for url in (
        "/manage/insight/heard/999999/publish/",
        "/manage/insight/heard/999999/unpublish/",
        "/manage/insight/heard/999999/quotes/1/remove/",
    ):
        assert client.get(url).status_code == 405, url


def test_a_report_address_already_taken_is_refused_with_a_message(
    report: HeardReport, user_for: Any
) -> None:
    response = _staff(user_for).post(
        "/manage/insight/heard/", {"title": "Another", "slug": report.slug}
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert HeardReport.objects.count() == 1


def test_the_address_of_a_published_report_cannot_change(coded: Coded, report: HeardReport) -> None:
    _published(coded, report)
    with pytest.raises(ValidationError) as error:
        heard_report_update(report=report, slug="somewhere-else")
    assert "slug" in error.value.message_dict

"""Quarterly and annual implementation reports: figures, publication, languages, PDFs."""

from __future__ import annotations

import datetime as dt
import re
import socket
import zlib
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from csas.progress import report_views
from csas.progress.models import (
    ActionMilestone,
    ActionUpdate,
    FundingLine,
    Indicator,
    Observation,
    ReportingPeriod,
)
from csas.progress.reports import (
    GoalSection,
    report_annual,
    report_periods,
    report_quarterly,
    report_years,
)
from csas.progress.services import (
    update_approve,
    update_review,
    update_save_draft,
    update_submit,
)
from csas.strategy.models import Action, StrategyVersion
from tests.conftest import make_user

DRAFT_WORDING = "Secret draft wording about 3.2"
REVIEW_WORDING = "Wording still in department review"


def _period(version: StrategyVersion, label: str, start: dt.date, end: dt.date) -> ReportingPeriod:
    return ReportingPeriod.objects.create(
        strategy=version.strategy,
        label=label,
        starts_on=start,
        ends_on=end,
        due_on=end + dt.timedelta(days=15),
    )


def _draft(action: Action, period: ReportingPeriod, status: str, narrative: str) -> ActionUpdate:
    return update_save_draft(
        action=action,
        period=period,
        author=make_user("strategy_staff"),
        status=status,
        narrative=narrative,
    )


def _publish(action: Action, period: ReportingPeriod, status: str, narrative: str) -> None:
    update = _draft(action, period, status, narrative)
    update_submit(update=update, by=update.author)
    update_review(update=update, by=make_user("admin"))
    update_approve(update=update, by=make_user("admin"))


@pytest.fixture
def q1(published_version: StrategyVersion) -> ReportingPeriod:
    return _period(published_version, "2026 Q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31))


@pytest.fixture
def q2(published_version: StrategyVersion) -> ReportingPeriod:
    return _period(published_version, "2026 Q2", dt.date(2026, 4, 1), dt.date(2026, 6, 30))


@pytest.fixture
def q3(published_version: StrategyVersion) -> ReportingPeriod:
    return _period(published_version, "2026 Q3", dt.date(2026, 7, 1), dt.date(2026, 9, 30))


@pytest.fixture
def progress(
    published_version: StrategyVersion,
    tpd_action: Action,
    tfd_action: Action,
    q1: ReportingPeriod,
    q2: ReportingPeriod,
    q3: ReportingPeriod,
) -> dict[str, Any]:
    """Goal 3 (seven actions): 3.6 on track in Q1 and complete in Q2; 3.2 at risk in Q1, with
    only a draft in Q2 and an update still in review in Q3 (which nothing else has)."""
    _publish(tpd_action, q1, "on_track", "Community service officers answered 770 calls.")
    _publish(tfd_action, q1, "at_risk", "Hiring is behind schedule.")
    _publish(tpd_action, q2, "complete", "The pilot became permanent.")
    _draft(tfd_action, q2, "off_track", DRAFT_WORDING)
    in_review = _draft(tfd_action, q3, "deferred", REVIEW_WORDING)
    update_submit(update=in_review, by=in_review.author)
    milestones = {
        "on time": (dt.date(2026, 2, 15), dt.date(2026, 2, 10)),
        "late": (dt.date(2026, 3, 1), dt.date(2026, 4, 20)),
        "open": (dt.date(2026, 3, 31), None),
        "next quarter": (dt.date(2026, 5, 31), dt.date(2026, 5, 1)),
        "last year": (dt.date(2025, 11, 30), dt.date(2025, 12, 1)),
    }
    for title, (planned, actual) in milestones.items():
        ActionMilestone.objects.create(
            action=tpd_action, title=f"Milestone {title}", planned_end=planned, actual_end=actual
        )
    for action, amount, status in [
        (tpd_action, "100000", "funded"),
        (tfd_action, "50000", "funded"),
        (tfd_action, "25000", "partially_funded"),
    ]:
        FundingLine.objects.create(
            action=action, source="General Fund", amount=Decimal(amount), status=status
        )
    indicator = Indicator.objects.create(
        strategy=published_version.strategy,
        slug="response-minutes",
        name="Median response time",
        kind="performance",
        unit="minutes",
        direction="decrease",
        baseline_value=14.0,
        baseline_year=2024,
        target_value=9.0,
        target_year=2030,
        translations={"es": {"name": "Tiempo de respuesta mediano"}},
    )
    indicator.actions.add(tpd_action)
    hidden = Indicator.objects.create(
        strategy=published_version.strategy,
        slug="internal-measure",
        name="Internal measure not for publication",
        kind="performance",
        unit="calls",
        direction="decrease",
        is_public=False,
    )
    hidden.actions.add(tpd_action)
    for start, end, value, suppressed, dimension in [
        ((2025, 10, 1), (2025, 12, 31), 12.0, False, ""),
        ((2026, 1, 1), (2026, 3, 31), 11.25, True, ""),
        ((2026, 1, 1), (2026, 3, 31), 99.0, False, "council_district"),
        ((2026, 4, 1), (2026, 6, 30), 10.5, False, ""),
    ]:
        Observation.objects.create(
            indicator=indicator,
            period_start=dt.date(*start),
            period_end=dt.date(*end),
            value=value,
            suppressed=suppressed,
            dimension=dimension,
            group="1" if dimension else "",
        )
    return {"q1": q1, "q2": q2, "q3": q3, "indicator": indicator}


def _goal(sections: tuple[GoalSection, ...], number: int) -> GoalSection:
    return next(section for section in sections if section.goal.number == number)


def _counts(section: GoalSection) -> dict[str, int]:
    return {item.status: item.count for item in section.status_counts if item.count}


# --- figures ------------------------------------------------------------------------------


def test_the_quarterly_report_counts_goal_3_by_hand(
    published_version: StrategyVersion, progress: dict[str, Any]
) -> None:
    report = report_quarterly(published_version, progress["q1"])
    goal3 = _goal(report.goals, 3)
    assert len(goal3.actions) == 7
    assert _counts(goal3) == {"on_track": 1, "at_risk": 1, "no_update": 5}
    # the five actions never updated are flagged; the two updated this quarter are not
    assert len(goal3.stale) == 5
    assert {a.code for a in goal3.stale}.isdisjoint({"3.6", "3.2"})
    narratives = {line.action.code: line.narrative for line in goal3.actions}
    assert narratives["3.6"] == "Community service officers answered 770 calls."
    assert narratives["3.2"] == "Hiring is behind schedule."
    # milestones planned to end in Q1: one met on time, one met late, one not met
    due = {line.milestone.title: line.outcome for line in goal3.milestones_due}
    assert due == {
        "Milestone on time": "on_time",
        "Milestone late": "late",
        "Milestone open": "open",
    }
    assert goal3.milestones_on_time == 1
    funding = {item.status: (item.amount, item.lines) for item in goal3.funding}
    assert funding == {
        "funded": (Decimal("150000"), 2),
        "partially_funded": (Decimal("25000"), 1),
        "unfunded": (Decimal("0"), 0),
    }
    assert goal3.funding_total == Decimal("175000")


def test_the_quarterly_report_totals_every_action_of_the_version(
    published_version: StrategyVersion, progress: dict[str, Any]
) -> None:
    report = report_quarterly(published_version, progress["q1"])
    totals = {item.status: item.count for item in report.status_counts if item.count}
    actions = Action.objects.filter(version=published_version).count()
    assert totals == {"on_track": 1, "at_risk": 1, "no_update": actions - 2}
    assert sum(len(section.actions) for section in report.goals) == actions
    # goals without funding or indicators report none rather than zeros from elsewhere
    goal1 = _goal(report.goals, 1)
    assert goal1.funding == ()
    assert goal1.indicators == ()


def test_the_quarterly_indicator_shows_its_latest_overall_value_up_to_the_period_end(
    published_version: StrategyVersion, progress: dict[str, Any]
) -> None:
    goal3 = _goal(report_quarterly(published_version, progress["q1"]).goals, 3)
    [line] = goal3.indicators  # the non-public indicator is left out
    assert line.indicator.slug == "response-minutes"
    # the breakdown and the Q2 value are left out; the suppressed Q1 value carries no value
    assert [(p.period_end, p.value, p.suppressed) for p in line.series] == [
        (dt.date(2025, 12, 31), 12.0, False),
        (dt.date(2026, 3, 31), None, True),
    ]
    assert line.end is not None
    assert line.end.suppressed
    assert line.end.value is None


def test_an_action_updated_last_quarter_is_not_stale_this_quarter(
    published_version: StrategyVersion, progress: dict[str, Any]
) -> None:
    goal3 = _goal(report_quarterly(published_version, progress["q2"]).goals, 3)
    assert _counts(goal3) == {"complete": 1, "no_update": 6}  # 3.2 has only a draft in Q2
    lines = {line.action.code: line for line in goal3.actions}
    assert lines["3.2"].status == "no_update"
    assert lines["3.2"].narrative == ""
    assert not lines["3.2"].is_stale  # its Q1 update covers the days before Q2
    assert lines["3.6"].status == "complete"


def test_an_action_with_no_update_for_two_quarters_is_stale(
    published_version: StrategyVersion, progress: dict[str, Any], tpd_action: Action
) -> None:
    q4 = _period(published_version, "2026 Q4", dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    _publish(tpd_action, q4, "complete", "Still running.")
    goal3 = _goal(report_quarterly(published_version, q4).goals, 3)
    lines = {line.action.code: line for line in goal3.actions}
    assert lines["3.2"].is_stale  # last published for Q1; Q3's update is still in review
    assert not lines["3.6"].is_stale


def test_the_annual_report_follows_each_action_through_the_year(
    published_version: StrategyVersion, progress: dict[str, Any]
) -> None:
    report = report_annual(published_version, 2026)
    # Q3 has an update in review only, so it is not one of the year's reported periods
    assert [p.label for p in report.periods] == ["2026 Q1", "2026 Q2"]
    goal3 = _goal(report.goals, 3)
    assert _counts(goal3) == {"complete": 1, "at_risk": 1, "no_update": 5}
    by_period = {
        row.period.label: {item.status: item.count for item in row.counts if item.count}
        for row in goal3.by_period
    }
    assert by_period == {
        "2026 Q1": {"on_track": 1, "at_risk": 1, "no_update": 5},
        "2026 Q2": {"complete": 1, "no_update": 6},
    }
    changes = {change.action.code: change for change in goal3.changes}
    assert (changes["3.6"].first_status, changes["3.6"].last_status) == ("on_track", "complete")
    assert changes["3.6"].changed
    assert (changes["3.2"].first_status, changes["3.2"].last_status) == ("at_risk", "at_risk")
    assert changes["3.2"].last_period is not None
    assert changes["3.2"].last_period.label == "2026 Q1"
    assert not changes["3.2"].changed
    assert changes["3.1"].first_period is None
    lines = {line.action.code: line for line in goal3.actions}
    assert lines["3.6"].narrative == "The pilot became permanent."
    assert lines["3.2"].narrative == "Hiring is behind schedule."


def test_the_annual_report_counts_milestones_and_indicator_start_and_end(
    published_version: StrategyVersion, progress: dict[str, Any]
) -> None:
    goal3 = _goal(report_annual(published_version, 2026).goals, 3)
    assert sorted(line.milestone.title for line in goal3.milestones_due) == [
        "Milestone late",
        "Milestone next quarter",
        "Milestone on time",
        "Milestone open",
    ]
    assert goal3.milestones_on_time == 2
    # done in 2026: on time (Feb), late (Apr), next quarter (May); not last year's
    assert sorted(line.milestone.title for line in goal3.milestones_completed) == [
        "Milestone late",
        "Milestone next quarter",
        "Milestone on time",
    ]
    [line] = goal3.indicators
    assert line.start is not None
    assert line.end is not None
    assert (line.start.period_end, line.start.value) == (dt.date(2025, 12, 31), 12.0)
    assert (line.end.period_end, line.end.value) == (dt.date(2026, 6, 30), 10.5)
    assert line.indicator.target_value == 9.0


def test_the_index_lists_periods_and_years_with_published_updates_only(
    published_version: StrategyVersion, progress: dict[str, Any]
) -> None:
    periods = report_periods(published_version)
    assert [p.label for p in periods] == ["2026 Q2", "2026 Q1"]
    assert report_years(periods) == [2026]
    body = Client().get("/reports/").content.decode()
    assert f'href="/reports/{progress["q1"].pk}/"' in body
    assert f'href="/reports/{progress["q2"].pk}/report.pdf"' in body
    assert f'href="/reports/{progress["q3"].pk}/"' not in body
    assert 'href="/reports/annual/2026/"' in body


def test_the_index_says_when_no_report_exists_yet(db: Any) -> None:
    body = Client().get("/reports/").content.decode()
    assert "No report is available yet" in body


# --- publication: drafts never appear ---------------------------------------------------------


@pytest.mark.parametrize("kind", ["quarterly", "annual"])
def test_report_pages_show_published_updates_and_never_drafts(
    kind: str, progress: dict[str, Any]
) -> None:
    url = f"/reports/{progress['q2'].pk}/" if kind == "quarterly" else "/reports/annual/2026/"
    response = Client().get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "The pilot became permanent." in body
    assert DRAFT_WORDING not in body
    assert REVIEW_WORDING not in body
    assert "Internal measure not for publication" not in body
    # the breakdown's 99 is neither in goal 3's list of indicators nor in the indicator's table
    goal3 = body.split('id="goal-3-heading"', 1)[1].split("</section>", 1)[0]
    assert "99" not in goal3.split("Median response time", 1)[1].split("</table>", 1)[0]
    indicator = body.split('id="indicator-response-minutes"', 1)[1]
    assert "99" not in indicator.split("</table>", 1)[0]
    # charts for the statuses and the indicator, each followed by a table of its figures
    assert body.count("<svg") >= 2
    for after_chart in body.split("</svg>")[1:]:
        assert "<table" in after_chart.split("<svg", 1)[0]


def test_a_period_with_only_a_draft_or_an_update_in_review_has_no_report(
    progress: dict[str, Any],
) -> None:
    client = Client()
    assert client.get(f"/reports/{progress['q3'].pk}/").status_code == 404
    assert client.get(f"/reports/{progress['q3'].pk}/report.pdf").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/reports/999999/",
        "/reports/999999/report.pdf",
        "/reports/annual/2019/",
        "/reports/annual/2019/report.pdf",
        "/es/reports/999999/",
    ],
)
def test_unknown_periods_and_years_are_not_found(url: str, progress: dict[str, Any]) -> None:
    assert Client().get(url).status_code == 404


def test_a_year_with_only_unpublished_updates_has_no_report(
    published_version: StrategyVersion, tfd_action: Action
) -> None:
    period = _period(published_version, "2027 Q1", dt.date(2027, 1, 1), dt.date(2027, 3, 31))
    _draft(tfd_action, period, "on_track", DRAFT_WORDING)
    assert Client().get("/reports/annual/2027/").status_code == 404


def test_report_pages_accept_only_safe_methods(progress: dict[str, Any]) -> None:
    assert Client().post(f"/reports/{progress['q1'].pk}/").status_code == 405


# --- PDFs -----------------------------------------------------------------------------------


@pytest.fixture
def pdf_spy(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Records the HTML each PDF is drawn from and the URL fetcher it was given."""
    calls: list[dict[str, Any]] = []
    real = report_views.pdf_from_html

    def spy(html: str, *, base_url: str, url_fetcher: Any = None) -> bytes:
        fetcher = report_views.report_url_fetcher()
        calls.append({"html": html, "fetcher": fetcher})
        return real(html, base_url=base_url, url_fetcher=fetcher)

    monkeypatch.setattr(report_views, "pdf_from_html", spy)
    return calls


def _laid_out_text(html: str) -> str:
    """The text WeasyPrint lays out on the PDF's pages."""
    from weasyprint import HTML
    from weasyprint.formatting_structure.boxes import TextBox

    document = HTML(string=html, url_fetcher=report_views.report_url_fetcher()).render()
    return " ".join(
        box.text
        for page in document.pages
        for box in page._page_box.descendants()
        if isinstance(box, TextBox)
    )


def test_the_quarterly_pdf_is_a_named_pdf_of_published_updates_only(
    progress: dict[str, Any], pdf_spy: list[dict[str, Any]]
) -> None:
    response = Client().get(f"/reports/{progress['q2'].pk}/report.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="tacoma-csas-2026-q2-en.pdf"'
    assert response.content.startswith(b"%PDF")
    [call] = pdf_spy
    assert call["fetcher"].refused == []  # the report needs nothing from anywhere
    text = _laid_out_text(call["html"])
    assert "The pilot became permanent." in text
    assert "Implementation report: 2026 Q2" in text
    assert DRAFT_WORDING not in text
    assert REVIEW_WORDING not in text


def test_the_annual_pdf_in_spanish_is_named_and_worded_in_spanish(
    progress: dict[str, Any], pdf_spy: list[dict[str, Any]]
) -> None:
    response = Client().get("/es/reports/annual/2026/report.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == ('inline; filename="tacoma-csas-2026-annual-es.pdf"')
    assert response.content.startswith(b"%PDF")
    text = _laid_out_text(pdf_spy[0]["html"])
    assert "Hitos" in text  # "Milestones"
    assert "Financiamiento" in text  # "Funding"
    assert "Tiempo de respuesta mediano" in text  # the indicator's own Spanish name
    assert DRAFT_WORDING not in text


def test_the_pdf_renderer_refuses_every_url_and_opens_no_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts: list[Any] = []

    def no_network(*args: Any, **kwargs: Any) -> None:
        attempts.append(args)
        raise AssertionError("the PDF renderer tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    fetcher = report_views.report_url_fetcher()
    html = (
        '<html><head><link rel="stylesheet" href="https://cdn.example.com/x.css">'
        '<style>@import url("http://example.com/y.css");</style></head><body>'
        '<p>Report</p><img src="http://example.com/x.png" alt="">'
        '<img src="/static/csas/site.css" alt=""><img src="file:///etc/passwd" alt="">'
        "</body></html>"
    )
    pdf = report_views.pdf_from_html(html, base_url="http://testserver/", url_fetcher=fetcher)
    assert pdf.startswith(b"%PDF")
    assert "http://example.com/x.png" in fetcher.refused
    assert "https://cdn.example.com/x.css" in fetcher.refused
    assert "http://testserver/static/csas/site.css" in fetcher.refused
    assert "file:///etc/passwd" in fetcher.refused
    assert attempts == []


def test_an_image_tag_in_a_narrative_is_text_not_a_fetch(
    tpd_action: Action, q1: ReportingPeriod, pdf_spy: list[dict[str, Any]]
) -> None:
    _publish(tpd_action, q1, "on_track", 'See <img src="http://example.com/x.png">')
    response = Client().get(f"/reports/{q1.pk}/report.pdf")
    assert response.status_code == 200
    assert pdf_spy[0]["fetcher"].refused == []
    assert "&lt;img src=&quot;http://example.com/x.png&quot;&gt;" in pdf_spy[0]["html"]


def _pdf_fonts(pdf: bytes) -> set[str]:
    """The names of the fonts embedded in a PDF (without the subset tag: ABCDEF+Name)."""
    blobs = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            blobs.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue  # not a Flate stream (an image or font program)
    names = re.findall(rb"/BaseFont\s*/(?:[A-Z]{6}\+)?([A-Za-z0-9\-_]+)", b"".join(blobs))
    return {name.decode() for name in names}


@pytest.mark.parametrize(
    ("language", "font"),
    [("vi", "DejaVu-Sans"), ("km", "csas-Khmer"), ("ko", "csas-Korean")],
)
def test_the_pdf_renders_in_vietnamese_khmer_and_korean_with_the_shipped_fonts(
    language: str, font: str, progress: dict[str, Any], pdf_spy: list[dict[str, Any]]
) -> None:
    # Debian's DejaVu has no Khmer or Hangul glyphs: csas ships a Khmer and a Korean font,
    # so those PDFs do not print boxes on a server without such fonts installed.
    response = Client().get(f"/{language}/reports/{progress['q1'].pk}/report.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"].endswith(f'-{language}.pdf"')
    assert font in _pdf_fonts(response.content)
    assert pdf_spy[0]["fetcher"].refused == []  # the fonts were fetched, nothing else asked
    # WeasyPrint breaks Khmer clusters apart in SVG text: the Khmer PDF shows the tables only.
    hidden = ".report-chart { display: none; }" in pdf_spy[0]["html"]
    assert hidden == (language == "km")
    assert 'class="scroll-x report-chart"' in pdf_spy[0]["html"]
    assert '<table class="data report-table">' in pdf_spy[0]["html"]


def test_the_report_fonts_are_the_only_addresses_fetched() -> None:
    fetcher = report_views.report_url_fetcher()
    assert fetcher("csas-font:noto-sans-khmer-400.ttf").read()[:4] == b"\x00\x01\x00\x00"
    for url in (
        "csas-font:../../settings.py",
        "csas-font:LICENSE-nanum-gothic.txt",
        "csas-font:nanum-gothic-korean-400.woff2",
        "http://testserver/static/vendor/fonts/noto-sans-khmer-400.ttf",
        "file:///etc/passwd",
    ):
        with pytest.raises(ValueError, match="refused"):
            fetcher(url)
    assert len(fetcher.refused) == 5
    assert {
        path.name for path in report_views.REPORT_FONTS_DIR.glob("*.ttf")
    } == report_views.REPORT_FONTS


# --- languages --------------------------------------------------------------------------------


def test_the_spanish_report_page_is_in_spanish(progress: dict[str, Any]) -> None:
    body = Client().get(f"/es/reports/{progress['q1'].pk}/").content.decode()
    assert '<html lang="es"' in body
    assert "Hitos" in body  # "Milestones"
    assert "Según lo previsto" in body  # the "On track" status
    assert "Tiempo de respuesta mediano" in body
    assert f'href="/es/reports/{progress["q1"].pk}/report.pdf"' in body


# --- queries ----------------------------------------------------------------------------------


def test_the_index_runs_a_fixed_number_of_queries(
    progress: dict[str, Any], django_assert_num_queries: Any
) -> None:
    client = Client()
    with django_assert_num_queries(3):  # the strategy, its published version, the periods
        client.get("/reports/")


@pytest.mark.parametrize("kind", ["quarterly", "annual"])
def test_report_pages_run_a_fixed_number_of_queries(
    kind: str,
    progress: dict[str, Any],
    published_version: StrategyVersion,
    tfd_action: Action,
    django_assert_num_queries: Any,
) -> None:
    url = f"/reports/{progress['q1'].pk}/" if kind == "quarterly" else "/reports/annual/2026/"
    client = Client()
    # strategy, version, reported periods, the data version (2); then, to draw the report:
    # updates, last period covered per action, milestones, funding, goals, actions,
    # indicators, observations
    drawn, cached = 13, 5
    with django_assert_num_queries(drawn):
        client.get(url)
    with django_assert_num_queries(cached):
        client.get(url)
    # more published updates, milestones and observations cost no more queries
    other = Action.objects.filter(version=published_version, goal__number=1).first()
    assert other is not None
    _publish(other, progress["q1"], "on_track", "More work.")
    ActionMilestone.objects.create(action=other, title="More", planned_end=dt.date(2026, 2, 1))
    progress["indicator"].actions.add(other)
    with django_assert_num_queries(drawn):
        body = client.get(url).content.decode()
    assert "More work." in body
    with django_assert_num_queries(cached):
        assert client.get(url).content.decode() == body


def test_an_indicator_linked_to_several_goals_is_drawn_once(
    progress: dict[str, Any], published_version: StrategyVersion
) -> None:
    goal1_action = Action.objects.filter(version=published_version, goal__number=1).first()
    assert goal1_action is not None
    progress["indicator"].actions.add(goal1_action)
    body = Client().get(f"/reports/{progress['q2'].pk}/").content.decode()
    assert body.count('id="indicator-response-minutes"') == 1
    assert body.count("<title id=") == body.count("<svg")  # one title per chart
    charts = [svg for svg in body.split("<svg")[1:] if "Median response time</title>" in svg]
    assert len(charts) == 1
    for number in (1, 3):  # each goal lists it and links to its chart and table
        goal = body.split(f'id="goal-{number}-heading"', 1)[1].split("</section>", 1)[0]
        assert 'href="#indicator-response-minutes">Median response time</a>' in goal
        assert "10.5 minutes (2026-06-30)" in goal  # its latest value


def test_a_cached_report_is_drawn_again_when_an_observation_is_rewritten_in_place(
    progress: dict[str, Any],
) -> None:
    client = Client()
    url = f"/reports/{progress['q2'].pk}/"
    assert "10.5 minutes (2026-06-30)" in client.get(url).content.decode()
    # feeds and the API rewrite an observation in place, leaving no timestamp behind
    observation = Observation.objects.get(
        indicator=progress["indicator"], dimension="", period_end=dt.date(2026, 6, 30)
    )
    observation.value = 10.25
    observation.save()
    body = client.get(url).content.decode()
    assert "10.3 minutes (2026-06-30)" in body
    assert "10.5 minutes" not in body
    observation.suppressed, observation.value = True, None
    observation.save()
    assert "10.3 minutes" not in client.get(url).content.decode()


def test_a_cached_report_is_drawn_again_when_strategy_content_or_milestones_change(
    progress: dict[str, Any], tpd_action: Action
) -> None:
    client = Client()
    url = f"/reports/{progress['q1'].pk}/"
    client.get(url)
    tpd_action.title = "A retitled action"
    tpd_action.save()
    assert "A retitled action" in client.get(url).content.decode()
    milestone = ActionMilestone.objects.get(title="Milestone open")
    milestone.actual_end = dt.date(2026, 3, 30)
    milestone.save()
    assert "2 of 3 milestones due in this period were met on time." in (
        client.get(url).content.decode()
    )
    indicator = progress["indicator"]
    indicator.name = "Median minutes to respond"
    indicator.save()
    assert "Median minutes to respond" in client.get(url).content.decode()


def test_an_untranslated_indicator_labels_its_chart_in_plain_text(
    progress: dict[str, Any],
) -> None:
    body = Client().get(f"/vi/reports/{progress['q1'].pk}/").content.decode()
    assert 'aria-label="Median response time"' in body  # no markup inside the attribute
    assert '<h3 id="indicator-response-minutes"><span lang="en">Median response time' in body


def test_a_cached_report_is_kept_per_language(progress: dict[str, Any]) -> None:
    client = Client()
    english = client.get(f"/reports/{progress['q1'].pk}/").content.decode()
    spanish = client.get(f"/es/reports/{progress['q1'].pk}/").content.decode()
    assert "Milestones" in english
    assert "Hitos" in spanish
    assert "Hitos" not in client.get(f"/reports/{progress['q1'].pk}/").content.decode()


def test_indicator_tables_read_the_same_when_numbers_are_grouped(
    progress: dict[str, Any], settings: Any
) -> None:
    from django.core.cache import cache

    url = f"/reports/{progress['q2'].pk}/"
    fast = Client().get(url).content.decode()
    settings.USE_THOUSAND_SEPARATOR = True  # the rows are then drawn by the template filters
    cache.clear()
    filtered = Client().get(url).content.decode()

    def table(body: str) -> str:
        return body.split('id="indicator-response-minutes"', 1)[1].split("<tbody>", 1)[1]

    assert table(fast).split("</tbody>", 1)[0] == table(filtered).split("</tbody>", 1)[0]
    assert "2026-04-01 – 2026-06-30</th><td>10.5</td>" in fast


def test_the_report_views_docstring_examples_run() -> None:
    import doctest

    assert doctest.testmod(report_views).failed == 0


@pytest.mark.parametrize("language", ["en", "es", "vi", "ru"])
def test_indicator_tables_show_numbers_as_the_floatformat_filter_does(language: str) -> None:
    from django.template.defaultfilters import floatformat
    from django.utils import translation
    from django.utils.formats import get_format

    values = [0.0, -0.0, 0.04, -0.04, 0.05, -0.05, 2.45, 2.55, 10.0, 10.25, 12.3456, -7.95]
    values += [99.95, 1234567.85, 1e15 + 0.5, 1e20, 123456789.0, 1 / 3, 2 / 3, 0.1 + 0.2]
    with translation.override(language):
        separator = get_format("DECIMAL_SEPARATOR")
        for value in values:
            assert report_views.one_decimal(value, separator) == floatformat(value, "-1"), value


def test_a_pdf_is_drawn_once_and_served_from_the_cache_until_the_report_changes(
    client: Client, q1: ReportingPeriod, published_version: StrategyVersion, monkeypatch: Any
) -> None:
    action = published_version.actions.get(code="3.2")
    _publish(action, q1, "on_track", "First wording")
    drawn: list[int] = []
    real = report_views.pdf_from_html

    def counting(html: str, **kwargs: Any) -> bytes:
        drawn.append(1)
        return real(html, **kwargs)

    monkeypatch.setattr(report_views, "pdf_from_html", counting)
    url = f"/reports/{q1.pk}/report.pdf"
    first = client.get(url)
    second = client.get(url)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert len(drawn) == 1
    # A newly published update changes the report, so the PDF is drawn again.
    _publish(published_version.actions.get(code="3.6"), q1, "at_risk", "Second wording")
    assert client.get(url).status_code == 200
    assert len(drawn) == 2


def test_pdfs_not_in_the_cache_are_limited_per_client(
    client: Client,
    q1: ReportingPeriod,
    published_version: StrategyVersion,
    settings: Any,
    monkeypatch: Any,
) -> None:
    settings.REPORT_PDFS_PER_HOUR = 1
    monkeypatch.setattr(report_views, "pdf_from_html", lambda html, **kwargs: b"%PDF-1.7 test")
    _publish(published_version.actions.get(code="3.2"), q1, "on_track", "Some wording")
    assert client.get(f"/reports/{q1.pk}/report.pdf").status_code == 200
    assert client.get(f"/reports/{q1.pk}/report.pdf").status_code == 200  # cached: not counted
    # The Spanish report is another PDF, not in the cache: over this client's limit.
    response = client.get(f"/es/reports/{q1.pk}/report.pdf")
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/plain")

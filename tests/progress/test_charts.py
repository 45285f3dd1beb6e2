"""Accessible inline SVG charts: well-formed, labelled, escaped, honest about gaps."""

from __future__ import annotations

import datetime as dt
import doctest
import xml.etree.ElementTree as ET

import pytest
from django.utils.safestring import SafeString

from csas.progress import charts
from csas.progress.charts import bar_chart_svg, format_number, line_chart_svg

SVG = "{http://www.w3.org/2000/svg}"
MONTHS = [dt.date(2024, month, 1) for month in range(1, 7)]


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted input


def _find_all(root: ET.Element, tag: str, css_class: str | None = None) -> list[ET.Element]:
    found = root.findall(f".//{SVG}{tag}")
    return [e for e in found if css_class is None or e.get("class") == css_class]


def test_the_docstring_examples_run() -> None:
    assert doctest.testmod(charts).failed == 0


def test_a_line_chart_is_well_formed_svg_labelled_by_its_title_and_description() -> None:
    svg = line_chart_svg(
        list(zip(MONTHS, [40.0, 42.0, 45.0, 44.0, 47.0, 50.0], strict=True)),
        title="Residents who feel safe",
        unit="percent",
    )
    assert isinstance(svg, SafeString)
    root = _parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby", "").split()
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None
    assert desc is not None
    assert (title.get("id"), desc.get("id")) == (title_id, desc_id)
    assert title.text == "Residents who feel safe"
    assert "6 values from 2024-01 to 2024-06" in (desc.text or "")
    assert "Latest: 50 percent (2024-06)" in (desc.text or "")


def test_a_line_chart_has_labelled_axes() -> None:
    root = _parse(
        line_chart_svg(
            list(zip(MONTHS, [10.0, 20.0, 30.0, 25.0, 15.0, 12.0], strict=True)),
            title="Calls",
            unit="calls",
        )
    )
    texts = [t.text for t in _find_all(root, "text")]
    assert "calls" in texts  # the unit labels the y axis
    assert {"0", "10", "20", "30"} <= set(texts)  # y ticks
    assert "2024-01" in texts  # the first and the last period on the x axis
    assert "2024-06" in texts


def test_period_ends_are_labelled_by_month_or_year() -> None:
    month_ends = [dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31)]
    root = _parse(line_chart_svg([(d, 1.0) for d in month_ends], title="T", unit="u"))
    assert "2024-02" in [t.text for t in _find_all(root, "text")]
    year_ends = [dt.date(2023, 12, 31), dt.date(2024, 12, 31)]
    root = _parse(line_chart_svg([(d, 1.0) for d in year_ends], title="T", unit="u"))
    assert "2023" in [t.text for t in _find_all(root, "text")]


def test_a_long_series_is_labelled_in_one_pass_over_its_dates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Ten years of month ends: how to label dates is decided once per chart, not once per
    # label (which made the work grow with labels times points).
    month_ends = [
        dt.date(2015 + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1) for m in range(1, 121)
    ]
    checked: list[dt.date] = []
    real = charts._month_end

    def counting(day: dt.date) -> bool:
        checked.append(day)
        return real(day)

    monkeypatch.setattr(charts, "_month_end", counting)
    root = _parse(line_chart_svg([(d, 1.0) for d in month_ends], title="T", unit="u"))
    assert len(checked) <= len(month_ends)
    texts = [t.text for t in _find_all(root, "text")]
    assert "2015-01" in texts
    assert "2024-12" in texts
    tooltips = [t.text or "" for c in _find_all(root, "circle", "point") for t in c]
    assert tooltips[0] == "2015-01: 1 u"


def test_a_line_chart_escapes_every_piece_of_text() -> None:
    svg = line_chart_svg(
        [(MONTHS[0], 1.0)],
        title='<script>alert("x")</script> & more',
        unit="<b>calls</b>",
        target=(2030, 5.0),
    )
    assert "<script>" not in svg
    assert "<b>" not in svg
    root = _parse(svg)  # still well-formed
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == '<script>alert("x")</script> & more'
    assert "<b>calls</b>" in [t.text for t in _find_all(root, "text")]


def test_suppressed_periods_are_gaps_in_the_line_and_marked_on_the_axis() -> None:
    values = [40.0, 42.0, None, 44.0, 47.0, None]
    root = _parse(line_chart_svg(list(zip(MONTHS, values, strict=True)), title="T", unit="percent"))
    runs = _find_all(root, "path", "series")
    assert len(runs) == 2  # 40-42, then 44-47: the line never crosses a gap
    assert len(_find_all(root, "circle", "point")) == 4
    assert len(_find_all(root, "path", "suppressed")) == 2
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert "2 periods are suppressed" in (desc.text or "")


def test_a_lone_value_between_gaps_is_still_drawn_as_a_point() -> None:
    values = [None, 40.0, None]
    root = _parse(line_chart_svg(list(zip(MONTHS, values, strict=False)), title="T", unit="%"))
    assert _find_all(root, "path", "series") == []
    assert len(_find_all(root, "circle", "point")) == 1


def test_the_target_is_a_dashed_line_at_its_value_and_named_in_the_description() -> None:
    root = _parse(
        line_chart_svg(
            list(zip(MONTHS[:2], [40.0, 50.0], strict=True)),
            title="T",
            unit="percent",
            target=(2030, 75.0),
            baseline=40.0,
        )
    )
    (target,) = _find_all(root, "line", "target")
    assert target.get("stroke-dasharray")
    assert target.get("y1") == target.get("y2")
    (baseline,) = _find_all(root, "line", "baseline")
    # Higher values are drawn higher up: the target (75) sits above the baseline (40).
    assert float(target.get("y1", 0)) < float(baseline.get("y1", 0))
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert "Target: 75 percent by 2030" in (desc.text or "")
    assert "Baseline: 40 percent" in (desc.text or "")
    assert "Target 75 percent by 2030" in [t.text for t in _find_all(root, "text")]


def test_a_line_chart_with_no_values_says_so() -> None:
    root = _parse(line_chart_svg([], title="Empty", unit="calls"))
    assert "No published values yet" in [t.text for t in _find_all(root, "text")]
    root = _parse(line_chart_svg([(MONTHS[0], None)], title="Hidden", unit="calls"))
    assert _find_all(root, "circle", "point") == []


def test_charts_use_no_script_style_or_external_asset() -> None:
    svg = line_chart_svg([(MONTHS[0], 1.0), (MONTHS[1], 2.0)], title="T", unit="u")
    svg += bar_chart_svg([("A", 1.0)], title="B", unit="u")
    for forbidden in ("<script", "style=", "href", "url(", "<image", "@import"):
        assert forbidden not in svg


def test_two_different_charts_get_different_ids() -> None:
    first = _parse(line_chart_svg([(MONTHS[0], 1.0)], title="One", unit="u"))
    second = _parse(line_chart_svg([(MONTHS[0], 1.0)], title="Two", unit="u"))
    assert first.get("aria-labelledby") != second.get("aria-labelledby")


def test_a_bar_chart_has_one_bar_per_published_value_and_words_for_suppressed_ones() -> None:
    svg = bar_chart_svg(
        [("Council District 1", 75.0), ("Council District 2", 40.0), ("Council District 3", None)],
        title="Feel safe by district",
        unit="percent",
    )
    root = _parse(svg)
    bars = _find_all(root, "rect", "bar")
    assert len(bars) == 2
    assert float(bars[0].get("width", 0)) > float(bars[1].get("width", 0))
    texts = [t.text for t in _find_all(root, "text")]
    assert "suppressed (too few)" in texts
    assert "75 percent" in texts
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert "Council District 3: suppressed (too few)" in (desc.text or "")


def test_a_bar_chart_escapes_labels_and_keeps_the_full_label_for_long_ones() -> None:
    label = "A & B <district> with a name much longer than the room there is on the left"
    root = _parse(bar_chart_svg([(label, 3.0)], title="T & <T>", unit="actions", width=400))
    (bar,) = _find_all(root, "rect", "bar")
    tooltip = bar.find(f"{SVG}title")
    assert tooltip is not None
    assert tooltip.text == f"{label}: 3 actions"
    shown = [t.text or "" for t in _find_all(root, "text")]
    assert any(text.endswith("…") and text.startswith("A & B") for text in shown)


def test_an_empty_bar_chart_is_still_well_formed() -> None:
    root = _parse(bar_chart_svg([], title="Nothing", unit="actions"))
    assert root.get("role") == "img"


def test_numbers_are_shown_with_at_most_one_decimal() -> None:
    assert [format_number(v) for v in (12.0, 12.34, 0.04, 1500.0)] == ["12", "12.3", "0", "1500"]


@pytest.mark.parametrize(("language", "sign"), [("en", "."), ("es", ","), ("ru", ","), ("vi", ",")])
def test_chart_figures_use_the_pages_decimal_sign(language: str, sign: str) -> None:
    from django.utils import translation

    with translation.override(language):
        line = line_chart_svg(
            [(dt.date(2024, 1, 1), 61.25), (dt.date(2025, 1, 1), 58.5)],
            title="Feel safe",
            unit="%",
            target=(2030, 70.5),
        )
        bars = bar_chart_svg([("District 1", 12.5), ("District 2", 3.0)], title="Rate", unit="")
    other = "," if sign == "." else "."
    for svg, figure in ((line, "58{}5"), (bars, "12{}5")):
        root = _parse(svg)
        words = " ".join(
            t.text or "" for t in root.iter() if t.tag.endswith(("text", "title", "desc"))
        )
        assert figure.format(sign) in words
        assert figure.format(other) not in words

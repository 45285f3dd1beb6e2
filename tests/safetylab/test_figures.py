"""Figures in the safety tables round as the charts beside them do, in the page's language."""

from __future__ import annotations

import pytest
from django.utils import translation

from csas.safetylab.templatetags.safetylab import figure, percent


@pytest.mark.parametrize(
    ("value", "digits", "shown"),
    [
        (167.19, 1, "167.2"),
        (29.99, 1, "30.0"),
        (0.96, 0, "1"),
        (1234.567, 1, "1,234.6"),
        (1234567.0, 0, "1,234,567"),
        (-0.04, 1, "0.0"),
        (None, 1, ""),
    ],
)
def test_a_figure_is_rounded_not_cut(value: float | None, digits: int, shown: str) -> None:
    with translation.override("en"):
        assert figure(value, digits) == shown


def test_a_share_is_a_rounded_percentage() -> None:
    with translation.override("en"):
        assert percent(0.23456) == "23.5%"
        assert percent(0.99996, 2) == "100.00%"
        assert percent(None) == ""


def test_figures_use_the_page_languages_separators() -> None:
    with translation.override("es"):
        assert figure(1234.567, 1) == "1\N{NO-BREAK SPACE}234,6"
    with translation.override("ru"):
        assert figure(167.19, 1).endswith("167,2")

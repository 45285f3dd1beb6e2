"""Adjusted p-values are shown to three decimals, and as "< 0.001" below that."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import translation

from csas.insight.templatetags.insight import p_value


@pytest.mark.parametrize(
    ("p", "shown"),
    [(0.0, "< 0.001"), (0.0004, "< 0.001"), (0.001, "0.001"), (0.0498, "0.050"), (None, "")],
)
def test_p_values_never_read_zero(p: float | None, shown: str) -> None:
    with translation.override("en"):
        assert p_value(p) == shown


def test_p_values_use_the_page_languages_decimal_sign() -> None:
    with translation.override("es"):
        rendered = Template("{% load insight %}{{ p|p_value }}").render(Context({"p": 0.00001}))
    assert rendered == "&lt; 0,001"

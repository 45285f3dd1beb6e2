"""Which of the site's languages a comment is in: script rules, Vietnamese letters, and the
most frequent short words of English and Spanish."""

from __future__ import annotations

import csv
import doctest
from pathlib import Path

import pytest

from csas.analysis.insight import language
from csas.analysis.insight.language import LANGUAGES, detect_language, detect_languages

AUSTIN = Path(language.__file__).resolve().parents[2] / "data" / "insight" / "austin-coded.csv"


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(language).failed == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Please fix the lights near the bus stop, it is dark at night.", "en"),
        ("La parada del autobús está muy oscura por la noche.", "es"),
        ("Tôi không cảm thấy an toàn khi đi bộ vào ban đêm.", "vi"),
        ("ខ្ញុំមិនមានអារម្មណ៍សុវត្ថិភាពនៅពេលយប់ទេ", "km"),
        ("밤에 공원을 걸을 때 안전하지 않다고 느낍니다", "ko"),
        ("Мне небезопасно гулять в парке вечером.", "ru"),
        ("Мені небезпечно гуляти в парку ввечері.", "uk"),
    ],
)
def test_each_site_language_is_recognised(text: str, expected: str) -> None:
    guess = detect_language(text)
    assert guess.language == expected
    assert 0 < guess.confidence <= 1
    assert guess.evidence


@pytest.mark.parametrize("text", ["", "   ", "!!!", "12345 678", "ok", None, 42, "Tacoma WA"])
def test_too_little_to_tell_is_undetermined_not_an_error(text: object) -> None:
    guess = detect_language(text)
    assert guess.language == "und"
    assert guess.confidence == 0.0


def test_cyrillic_without_telling_letters_is_russian_with_less_confidence() -> None:
    sure = detect_language("Мне страшно выходить вечером")  # ы: only Russian
    unsure = detect_language("Мало света в парке")  # no letter only one language uses
    assert unsure.language == "ru"
    assert unsure.confidence < sure.confidence


def test_real_english_comments_are_not_mistaken_for_another_language() -> None:
    with AUSTIN.open(encoding="utf-8") as handle:
        texts = [row["comment"] for row in csv.DictReader(handle)]
    guesses = detect_languages(texts)
    assert len(guesses) == len(texts) > 300
    found = [g.language for g in guesses]
    assert set(found) <= set(LANGUAGES)
    # every real (English) comment is English or undetermined (very short ones), never
    # another language
    assert set(found) <= {"en", "und"}
    assert found.count("en") / len(found) > 0.9

"""Which of the site's languages a comment is written in, offline and without a model.

The coder reads English words (its lexicon and the shipped examples are English), so a
comment in another language would be coded from the few words it shares with English, with
a confidence that means little. Knowing the language lets the caller keep such a comment and
send it to a person first instead.

The method is deliberately plain and explainable:

1. **Script.** Letters are counted by writing system: Khmer, Hangul (Korean) and Cyrillic
   each belong to one or two of the site's languages. Cyrillic text is Ukrainian when it has
   a letter only Ukrainian uses (``і ї є ґ``), Russian when it has one only Russian uses
   (``ы э ъ ё``), and Russian with lower confidence otherwise.
2. **Latin letters.** Vietnamese is recognised by the letters and tone marks only it uses
   among the site's languages (``ă â đ ê ô ơ ư`` and the dotted and hooked vowels). English
   and Spanish are told apart by their most frequent short words ("the", "and", "is" against
   "el", "la", "que", "y"...), which appear in almost any sentence of either.
3. **Not sure** (``und``) when a comment has too few letters, or its Latin-script words give
   no clear answer.

>>> detect_language("The street lights on my block have been out for months").language
'en'
>>> detect_language("Necesitamos más luces en el parque y que la policía venga").language
'es'
>>> detect_language("Cần thêm đèn đường ở công viên").language
'vi'
>>> detect_language("Потрібно більше освітлення у парку").language
'uk'
>>> detect_language("123 !!!").language
'und'
"""

# The docstrings show Cyrillic text and letters on purpose (they are what is detected).
# ruff: noqa: RUF002

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

#: The codes `detect_language` answers with ("und": undetermined).
LANGUAGES = ("en", "es", "vi", "km", "ko", "ru", "uk", "und")

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

_UKRAINIAN_ONLY = frozenset("іїєґІЇЄҐ")
_RUSSIAN_ONLY = frozenset("ыэъёЫЭЪЁ")
# Letters with marks that, among the site's Latin-script languages, only Vietnamese uses:
# the breve and horn letters, đ, and vowels carrying a dot below or a hook above.
_VIETNAMESE_ONLY = frozenset("ăâđêôơưĂÂĐÊÔƠƯ")
_VIETNAMESE_MARKS = frozenset({"\u0323", "\u0309"})  # dot below, hook above (decomposed)

_ENGLISH = frozenset(
    {
        "the",
        "and",
        "is",
        "are",
        "was",
        "were",
        "to",
        "of",
        "in",
        "that",
        "it",
        "for",
        "on",
        "with",
        "this",
        "be",
        "have",
        "has",
        "not",
        "you",
        "we",
        "they",
        "there",
        "what",
        "would",
        "should",
        "could",
        "can",
        "will",
        "my",
        "our",
        "your",
        "their",
        "from",
        "at",
        "by",
        "about",
        "more",
        "people",
        "need",
        "feel",
        "safe",
        "police",
    }
)
_SPANISH = frozenset(
    {
        "el",
        "la",
        "los",
        "las",
        "de",
        "del",
        "que",
        "y",
        "en",
        "un",
        "una",
        "es",
        "son",
        "por",
        "para",
        "con",
        "se",
        "al",
        "más",
        "muy",
        "pero",
        "como",
        "mi",
        "mis",
        "nuestro",
        "nuestra",
        "hay",
        "está",
        "están",
        "seguridad",
        "policía",
        "necesitamos",
    }
)
_MIN_LETTERS = 6


@dataclass(frozen=True)
class LanguageGuess:
    """The language of one comment.

    Fields:
        language: one of `LANGUAGES` (``und`` when not sure).
        confidence: 0 to 1, the share of the evidence that points to it (0 for ``und``).
        evidence: in words, what decided it.
    """

    language: str
    confidence: float
    evidence: str


# Letters of each writing system (counted with one regular-expression pass each: much faster
# than looking at every character in Python). Latin: ASCII letters, Latin-1 and Latin
# Extended-A/B letters (not the two signs in that block) and Latin Extended Additional, where
# Vietnamese's stacked marks live.
_SCRIPTS = {
    "khmer": re.compile("[\u1780-\u17ff\u19e0-\u19ff]"),
    "hangul": re.compile("[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]"),
    "cyrillic": re.compile("[\u0400-\u04ff]"),
    "latin": re.compile("[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]"),
}
_ASCII_LETTER = re.compile("[A-Za-z]")


def _script_counts(text: str) -> dict[str, int]:
    if text.isascii():
        return {"latin": len(_ASCII_LETTER.findall(text))}
    return {name: len(pattern.findall(text)) for name, pattern in _SCRIPTS.items()}


def _is_vietnamese_letter(char: str) -> bool:
    if char in _VIETNAMESE_ONLY:
        return True
    decomposed = unicodedata.normalize("NFD", char)
    return any(mark in _VIETNAMESE_MARKS for mark in decomposed[1:])


def detect_language(text: object) -> LanguageGuess:
    """Guess which of the site's seven languages `text` is written in (see the module
    docstring for the rules). Never raises: anything that is not a string is ``und``."""
    if not isinstance(text, str):
        return LanguageGuess("und", 0.0, "not text")
    counts = _script_counts(text)
    letters = sum(counts.values())
    if letters < _MIN_LETTERS:
        return LanguageGuess("und", 0.0, f"{letters} letters: too few to tell")
    script, n = max(counts.items(), key=lambda item: item[1])
    share = n / letters
    if script == "khmer":
        return LanguageGuess("km", share, "Khmer script")
    if script == "hangul":
        return LanguageGuess("ko", share, "Hangul (Korean) script")
    if script == "cyrillic":
        if any(char in _UKRAINIAN_ONLY for char in text):
            return LanguageGuess("uk", share, "Cyrillic with letters only Ukrainian uses")
        if any(char in _RUSSIAN_ONLY for char in text):
            return LanguageGuess("ru", share, "Cyrillic with letters only Russian uses")
        return LanguageGuess("ru", share * 0.6, "Cyrillic (Russian or Ukrainian; assumed Russian)")
    vietnamese = 0 if text.isascii() else sum(1 for char in text if _is_vietnamese_letter(char))
    if vietnamese >= 2 and vietnamese / n >= 0.05:
        return LanguageGuess("vi", share, f"{vietnamese} letters only Vietnamese uses")
    words = _WORD.findall(text.lower())
    english = sum(map(_ENGLISH.__contains__, words))
    spanish = sum(map(_SPANISH.__contains__, words))
    if english == spanish:
        return LanguageGuess("und", 0.0, "Latin script; no clear English or Spanish words")
    winner, found, other = (
        ("en", english, spanish) if english > spanish else ("es", spanish, english)
    )
    confidence = found / (found + other)
    name = "English" if winner == "en" else "Spanish"
    return LanguageGuess(winner, confidence, f"{found} common {name} words against {other}")


def detect_languages(texts: Sequence[object]) -> tuple[LanguageGuess, ...]:
    """`detect_language` of each text, in order."""
    return tuple(detect_language(text) for text in texts)

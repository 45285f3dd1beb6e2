"""Strategy content in the reader's language, falling back to English visibly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LocalText:
    text: str
    language: str
    is_fallback: bool

    def __str__(self) -> str:
        return self.text


def localized(obj: Any, field: str, language: str) -> LocalText:
    """`obj.field` in `language` if the content carries a current translation, else English
    (`csas.strategy.translation` records the English each translation was made from)."""
    base = getattr(obj, field)
    if language == "en" or not base:
        return LocalText(base, "en", False)
    translations = getattr(obj, "translations", None) or {}
    texts = translations.get(language) or {}
    text = texts.get(field)
    # A translation made from other English than the text's now is out of date: not shown.
    source = (texts.get("_from") or {}).get(field)
    if text and (source is None or source == base):
        return LocalText(text, language, False)
    return LocalText(base, "en", True)

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
    """`obj.field` in `language` if the content carries that translation, else English."""
    base = getattr(obj, field)
    if language == "en" or not base:
        return LocalText(base, "en", False)
    translations = getattr(obj, "translations", None) or {}
    text = (translations.get(language) or {}).get(field)
    if text:
        return LocalText(text, language, False)
    return LocalText(base, "en", True)

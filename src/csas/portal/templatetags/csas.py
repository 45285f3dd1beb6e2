from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from csas.strategy.i18n import localized

register = template.Library()


@register.simple_tag
def local(obj: Any, field: str) -> SafeString:
    """Content in the page's language; English fallbacks are marked lang="en" for screen readers."""
    text = localized(obj, field, (get_language() or "en").split("-")[0])
    if text.is_fallback:
        return format_html('<span lang="en">{}</span>', text.text)
    return format_html("{}", text.text)

"""Codes on every page, dotted and described: ``{% load codes %}``.

``{% code_label code %}`` prints one stored code as ``I21.4 Non-ST elevation
(NSTEMI) myocardial infarction``; ``{% code_labels codes %}`` a list of them;
``{% codes_in_text text %}`` a model's free text with the codes in it dotted
and described; ``{{ code|dotted_code }}`` only dots (for a column beside its
description). The functions behind them are ``coding_app.codes.display``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from coding_app.codes.display import CodeLabel, code_label, codes_in_text
from coding_app.codes.forms import code_key, dotted
from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.store import CodeSetNotLoaded, current_hierarchy

register = template.Library()

_CACHE_KEY = "coding_app.codes.hierarchy"


def _hierarchy(context: template.Context) -> Hierarchy | None:
    # One look-up of the active release per template render, however many
    # codes the page shows; a view that holds the hierarchy passes it as
    # ``code_set`` and saves even that.
    given = context.get("code_set")
    if isinstance(given, Hierarchy):
        return given
    cache: Any = context.render_context
    if _CACHE_KEY not in cache:
        try:
            cache[_CACHE_KEY] = current_hierarchy()
        except CodeSetNotLoaded:
            cache[_CACHE_KEY] = None
    found: Hierarchy | None = cache[_CACHE_KEY]
    return found


def _html(label: CodeLabel) -> SafeString:
    if not label.description:
        return format_html('<span class="code-label">{}</span>', label.code)
    return format_html(
        '<span class="code-label">{} <span class="code-description">{}</span></span>',
        label.code,
        label.description,
    )


@register.simple_tag(name="code_label", takes_context=True)
def code_label_tag(context: template.Context, code: object) -> SafeString:
    return _html(code_label(code, _hierarchy(context)))


@register.simple_tag(takes_context=True)
def code_labels(context: template.Context, codes: Iterable[object]) -> SafeString:
    """The codes' labels, separated by semicolons (descriptions hold commas)."""
    hierarchy = _hierarchy(context)
    return format_html_join("; ", "{}", ((_html(code_label(c, hierarchy)),) for c in codes))


@register.simple_tag(name="codes_in_text", takes_context=True)
def codes_in_text_tag(context: template.Context, text: object) -> SafeString:
    hierarchy = _hierarchy(context)
    pieces = codes_in_text(str(text or ""), hierarchy)
    return format_html_join(
        "",
        "{}",
        ((_html(p.label) if p.label else p.text,) for p in pieces),
    )


@register.filter
def dotted_code(code: object) -> str:
    """``E1165`` gives ``E11.65``; text not shaped like a code is kept."""
    key = code_key(code)
    return dotted(key) if key else str(code)

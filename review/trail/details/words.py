"""What every sentence of the trail is made of: who reads it and how a
note, a review, a code and a filter are said.

Every value from a payload is escaped (``format_html``): payloads hold text
that coders and models wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from coding_app.audit.models import AuditEvent
from coding_app.codes.display import code_label
from coding_app.codes.hierarchy import Hierarchy


@dataclass
class Reader:
    """What the sentences need beyond the event: who reads them (links to
    admin-only pages only for admins), the code set, the users an event
    names by id, and the note's external id."""

    can_manage: bool = False
    hierarchy: Hierarchy | None = None
    emails: Mapping[int, str] = field(default_factory=dict)

    def code(self, code: object) -> SafeString:
        label = code_label(code, self.hierarchy)
        if not label.description:
            return format_html('<span class="code-label">{}</span>', label.code)
        return format_html(
            '<span class="code-label" title="{}">{}</span>', label.description, label.code
        )

    def codes(self, codes: Iterable[object]) -> SafeString:
        listed = list(codes)
        if not listed:
            return format_html("{}", "no code")
        return format_html_join(", ", "{}", ((self.code(c),) for c in listed))

    def user(self, user_id: object) -> str:
        if not isinstance(user_id, int):
            return "nobody"
        return self.emails.get(user_id, f"user {user_id}")


def link(url_name: str, args: Iterable[object], text: object) -> SafeString:
    return format_html('<a href="{}">{}</a>', reverse(url_name, args=list(args)), text)


def note_link(event: AuditEvent) -> SafeString:
    if event.note_id is None:
        return format_html("{}", "a note")
    shown = getattr(event, "note_external_id", None) or f"#{event.note_id}"
    return format_html("note {}", link("review:audit_note", [event.note_id], shown))


def review_name(event: AuditEvent) -> str:
    return f"review {event.review_id}" if event.review_id else "the review"


def capital(text: SafeString) -> SafeString:
    # Sentences start with a verb in lower case from ``_decision``; the
    # first character of the HTML is a letter there, never a tag.
    return SafeString(text[:1].upper() + text[1:])


def payload_of(event: AuditEvent) -> Mapping[str, Any]:
    return event.payload if isinstance(event.payload, dict) else {}


Sentence = Callable[[AuditEvent, Reader], SafeString]


def filter_words(chosen: object) -> str:
    """A statistics or trail filter (``as_dict``) in words; empty when none."""
    if not isinstance(chosen, dict):
        return ""
    names = {
        "model_version_id": "model version",
        "user": "user",
        "note": "note",
        "kind": "action",
        "since": "from",
        "until": "before",
    }
    parts = []
    for key, name in names.items():
        value = chosen.get(key)
        if value not in (None, "", False):
            text = str(value)[:10] if key in ("since", "until") else str(value)
            parts.append(f"{name} {text}")
    return ", ".join(parts)


def filtered(chosen: object) -> str:
    said = filter_words(chosen)
    return f" ({said})" if said else " (everything)"

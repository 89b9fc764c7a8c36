"""Every kind of audit event reads as a sentence, never as a Python dict.

The payloads below are the shapes the apps write (``audit(...)`` calls in
review.desk, review.stats, review.trail, training and worker); a kind that
an app registers without a sentence here fails the first test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from coding_app.accounts.roles import Role
from coding_app.audit.kinds import kind_choices
from coding_app.models import AuditEvent, User
from review.trail.details import SENTENCES, described, event_sentence, fallback, reader_for

DECISION = {"id": 7, "suggestion": 3, "action": "accept", "code": "E1165", "replacement": ""}
REPLACED = {**DECISION, "action": "replace", "replacement": "E11649", "relation": "sibling"}
FILTER = {"model_version_id": 2, "since": "2026-03-02T00:00:00+00:00", "until": None}
SNAPSHOT = {"snapshot_id": 4, "export_kind": "sft"}

# kind -> (payload, words the sentence must hold)
SAMPLES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "export_downloaded": (
        {**SNAPSHOT, "file": "train.jsonl", "sha256": "ab" * 32},
        ["Downloaded train.jsonl of export #4 (sft)", "sha256 abababababab"],
    ),
    "note_viewed": ({}, ["Opened note n-1 on the desk (review 9)"]),
    "decision_made": ({"decision": DECISION, "before": None}, ["Accepted E11.65 in review 9"]),
    "decision_changed": (
        {"decision": REPLACED, "before": DECISION},
        ["replaced E11.65 with E11.649, a sibling code", "before: accepted E11.65"],
    ),
    "decision_removed": (
        {"decision": {**DECISION, "action": "add", "code": "I10"}},
        ["Removed the added code I10 from review 9"],
    ),
    "evidence_marked": (
        {"evidence": {"id": 1, "code": "E11.65", "text": "type 2 diabetes", "start": 0}},
        ["Marked “type 2 diabetes” as evidence for E11.65"],
    ),
    "evidence_removed": (
        {"evidence": {"id": 1, "code": "E11.65", "text": "type 2 diabetes", "start": 0}},
        ["Took back “type 2 diabetes” as evidence for E11.65"],
    ),
    "review_submitted": (
        {"final_codes": ["I10", "E1165"], "amendment": False, "seconds_on_task": 21.4},
        ["Submitted review 9 of note n-1 with 2 codes: E11.65, I10 (21 s on the note)"],
    ),
    "review_reopened": ({"final_codes": ["I10"]}, ["Reopened review 9 to amend it", "I10"]),
    "lease_taken": ({}, ["Took note n-1 from the queue"]),
    "lease_released": ({"previous_holder": "HOLDER"}, ["back to the queue", "held by holder@"]),
    "lease_expired": ({"previous_holder": "HOLDER"}, ["The lease of holder@example.org"]),
    "note_reassigned": (
        {"previous_holder": "HOLDER", "to": "HOLDER"},
        ["Handed note n-1 to holder@example.org"],
    ),
    "stats_viewed": (
        {"page": "coders", "filter": FILTER},
        ["Read the statistics page Coders (model version 2, from 2026-03-02)"],
    ),
    "note_opened_by_auditor": ({}, ["Opened note n-1 in the audit trail"]),
    "audit_exported": (
        {"filter": {"user": "ann", "note": "", "kind": "lease_taken"}},
        ["Exported the audit trail as CSV (user ann, action lease_taken)"],
    ),
    "export_created": (
        {**SNAPSHOT, "filters": {}},
        ["Created export #4 (sft) (everything)"],
    ),
    "export_viewed": (SNAPSHOT, ["Opened export #4 (sft)"]),
    "training_run_started": (
        {"run": 5, "method": "head", "base_version": "zero-shot"},
        ["Started training run #5 (head) from model version zero-shot"],
    ),
    "training_run_cancelled": ({"run": 5}, ["Cancelled training run #5"]),
    "model_promoted": (
        {"version": "head-5", "version_id": 3, "backend": "embedding", "replaced": "zero-shot"},
        ["Made model version head-5 (embedding) the active one in place of zero-shot"],
    ),
    "model_rolled_back": (
        {"version": "zero-shot", "version_id": 1, "backend": "embedding", "retired": "head-5"},
        ["zero-shot is active again, head-5 is retired"],
    ),
    "prediction_chunk_retried": (
        {"job_id": 2, "chunk_index": 0, "notes": 50, "error": "The worker ran out of time."},
        ["Sent chunk 1 of prediction job #2 (50 notes) back to the queue", "ran out of time"],
    ),
}


def _event(kind: str, payload: dict[str, Any], holder: User) -> AuditEvent:
    filled = {k: holder.pk if v == "HOLDER" else v for k, v in payload.items()}
    event = AuditEvent(kind=kind, actor=holder, note_id=1, review_id=9, payload=filled)
    event.note_external_id = "n-1"  # type: ignore[attr-defined]  # annotated by the selector
    return event


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def test_every_registered_kind_has_a_sentence_and_a_sample() -> None:
    registered = {value for value, _label in kind_choices()}
    assert registered - set(SENTENCES) == set(), "kinds without a sentence"
    assert registered - set(SAMPLES) == set(), "kinds without a sample payload here"


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_each_kind_reads_as_a_sentence(kind: str, make_user: Callable[..., User]) -> None:
    holder = make_user(Role.CODER, email="holder@example.org")
    payload, words = SAMPLES[kind]
    event = _event(kind, payload, holder)
    html = event_sentence(event, reader_for([event], can_manage=True))
    text = _text(html)
    for expected in words:
        assert expected in text, (kind, text)
    assert "{" not in text, f"{kind} shows raw data: {text}"
    assert "'" not in text, f"{kind} shows raw data: {text}"
    assert text.endswith("."), text


def test_notes_and_exports_are_links_and_admin_pages_only_for_admins(
    make_user: Callable[..., User],
) -> None:
    holder = make_user(Role.CODER)
    viewed = _event("note_viewed", {}, holder)
    run = _event("training_run_started", SAMPLES["training_run_started"][0], holder)
    export = _event("export_viewed", SNAPSHOT, holder)
    (_, note_html), (_, run_html), (_, export_html) = described(
        [viewed, run, export], can_manage=False
    )
    assert '<a href="/desk/audit/notes/1/">n-1</a>' in note_html
    assert '<a href="/manage/exports/4/">' in export_html
    assert "<a " not in run_html  # an auditor cannot open a run's page
    (_, run_for_admin) = described([run], can_manage=True)[0]
    assert '<a href="/manage/runs/5/">' in run_for_admin


def test_payload_text_is_escaped(make_user: Callable[..., User]) -> None:
    holder = make_user(Role.CODER)
    event = _event(
        "evidence_marked", {"evidence": {"code": "I10", "text": "<script>x</script>"}}, holder
    )
    html = event_sentence(event, reader_for([event], can_manage=False))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_a_kind_without_a_sentence_still_reads_as_words(make_user: Callable[..., User]) -> None:
    event = _event("lease_taken", {"chunk_index": 2, "reason": "<b>"}, make_user(Role.CODER))
    text = fallback(event, reader_for([event], can_manage=False))
    assert text == "Lease taken: chunk index: 2; reason: &lt;b&gt;."

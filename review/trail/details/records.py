"""Events about records rather than notes as sentences: statistics and
trail reads, exports, training runs, model versions, prediction chunks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString

from coding_app.audit.models import AuditEvent
from review.trail.details.words import Reader, filtered, link, note_link, payload_of

# The statistics pages as their views name them (``review.stats.pages``).
STATS_PAGES = {
    "overview": ("Model vs coders", "review:audit_home"),
    "codes": ("Per code", "review:stats_codes"),
    "agreement": ("Coder vs coder", "review:stats_agreement"),
    "coders": ("Coders", "review:stats_coders"),
}


def stats_viewed(event: AuditEvent, reader: Reader) -> SafeString:
    payload = payload_of(event)
    title, url_name = STATS_PAGES.get(str(payload.get("page")), (str(payload.get("page")), ""))
    page = link(url_name, [], title) if url_name else format_html("{}", title)
    return format_html("Read the statistics page {}{}.", page, filtered(payload.get("filter")))


def note_opened_by_auditor(event: AuditEvent, reader: Reader) -> SafeString:
    return format_html("Opened {} in the audit trail.", note_link(event))


def audit_exported(event: AuditEvent, reader: Reader) -> SafeString:
    return format_html(
        "Exported the audit trail as CSV{}.", filtered(payload_of(event).get("filter"))
    )


def _snapshot(payload: Mapping[str, Any]) -> SafeString:
    snapshot_id, kind = payload.get("snapshot_id"), payload.get("export_kind", "")
    text = f"export #{snapshot_id}" + (f" ({kind})" if kind else "")
    if not isinstance(snapshot_id, int):
        return format_html("{}", text)
    return link("training:exports:detail", [snapshot_id], text)


def export_downloaded(event: AuditEvent, reader: Reader) -> SafeString:
    payload = payload_of(event)
    if "snapshot_id" in payload:
        sha = str(payload.get("sha256") or "")
        return format_html(
            "Downloaded {} of {}{}.",
            payload.get("file", "a file"),
            _snapshot(payload),
            f" (sha256 {sha[:12]}…)" if sha else "",
        )
    name = str(payload.get("export", "a file")).removeprefix("stats-")
    return format_html(
        "Downloaded the {} statistics as {}{}.",
        name,
        str(payload.get("format", "a file")).upper(),
        filtered(payload.get("filter")),
    )


def export_created(event: AuditEvent, reader: Reader) -> SafeString:
    payload = payload_of(event)
    return format_html("Created {}{}.", _snapshot(payload), filtered(payload.get("filters")))


def export_viewed(event: AuditEvent, reader: Reader) -> SafeString:
    return format_html("Opened {}.", _snapshot(payload_of(event)))


def _run(run_id: object, reader: Reader) -> SafeString:
    if isinstance(run_id, int) and reader.can_manage:
        return link("training:runs:detail", [run_id], f"training run #{run_id}")
    return format_html("training run #{}", run_id)


def training_run_started(event: AuditEvent, reader: Reader) -> SafeString:
    payload = payload_of(event)
    return format_html(
        "Started {} ({}) from model version {}.",
        _run(payload.get("run"), reader),
        payload.get("method", "unknown method"),
        payload.get("base_version", "unknown"),
    )


def training_run_cancelled(event: AuditEvent, reader: Reader) -> SafeString:
    return format_html("Cancelled {}.", _run(payload_of(event).get("run"), reader))


def _version(name: object, reader: Reader) -> SafeString:
    if reader.can_manage:
        return link("training:runs:versions", [], name)
    return format_html("{}", name)


def model_promoted(event: AuditEvent, reader: Reader) -> SafeString:
    payload = payload_of(event)
    replaced = payload.get("replaced")
    reason = payload.get("reason") or "admin"
    by = "by an admin" if reason == "admin" else f"by rule: {reason}"
    return format_html(
        "Made model version {} ({}) the active one{}, {}.",
        _version(payload.get("version"), reader),
        payload.get("backend", ""),
        f" in place of {replaced}" if replaced else "",
        by,
    )


def model_rolled_back(event: AuditEvent, reader: Reader) -> SafeString:
    payload = payload_of(event)
    return format_html(
        "Rolled the {} models back: {} is active again, {} is retired.",
        payload.get("backend", ""),
        _version(payload.get("version"), reader),
        payload.get("retired", "the newer version"),
    )


def prediction_chunk_retried(event: AuditEvent, reader: Reader) -> SafeString:
    payload = payload_of(event)
    job_id = payload.get("job_id")
    job = (
        link("worker:job_detail", [job_id], f"prediction job #{job_id}")
        if isinstance(job_id, int) and reader.can_manage
        else format_html("prediction job #{}", job_id)
    )
    chunk = payload.get("chunk_index")
    error = str(payload.get("error") or "")
    return format_html(
        "Sent chunk {} of {} ({} notes) back to the queue{}.",
        chunk + 1 if isinstance(chunk, int) else chunk,
        job,
        payload.get("notes", "?"),
        f" after it failed: {error}" if error else "",
    )

"""The filters of an export: parsed once, with an error that names the field.

Stored on the snapshot as JSON (``ExportFilters.as_json``), read back with
``filters_parse`` when the file is written, so a filter that stopped being
valid in between (a model version deleted, say) fails the export cleanly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from coding_app.codes.entry import CodeKind
from coding_app.models import Code, CodeRelease, User
from worker.models import ModelVersion


class ExportFilterError(ValueError):
    """A filter is unknown or its value is wrong; the message names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"filters.{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class ExportFilters:
    """Which submitted reviews an export reads.

    ``date_from`` and ``date_to`` bound the submission day, both inclusive,
    in the desk's time zone. ``agreement_only`` implies ``double_coded_only``.
    ``chapters`` keeps a review when one of its final codes lies in one of
    them.
    """

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    model_version: int | None = None
    coders: tuple[int, ...] = ()
    chapters: tuple[str, ...] = ()
    double_coded_only: bool = False
    agreement_only: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "model_version": self.model_version,
            "coders": list(self.coders),
            "chapters": list(self.chapters),
            "double_coded_only": self.double_coded_only,
            "agreement_only": self.agreement_only,
        }


FIELDS = frozenset(ExportFilters.__dataclass_fields__)


def filters_parse(raw: Mapping[str, Any] | None) -> ExportFilters:
    """Check every filter against the database; raise ``ExportFilterError``."""
    raw = raw or {}
    if not isinstance(raw, Mapping):
        raise ExportFilterError("*", f"filters must be an object, not {type(raw).__name__}")
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise ExportFilterError(
            unknown[0], f"unknown filter; the known ones are {', '.join(sorted(FIELDS))}"
        )
    date_from = _date(raw, "date_from")
    date_to = _date(raw, "date_to")
    if date_from and date_to and date_from > date_to:
        raise ExportFilterError("date_to", f"{date_to} is before date_from {date_from}")
    agreement_only = _flag(raw, "agreement_only")
    return ExportFilters(
        date_from=date_from,
        date_to=date_to,
        model_version=_model_version(raw.get("model_version")),
        coders=_coders(raw.get("coders")),
        chapters=_chapters(raw.get("chapters")),
        double_coded_only=_flag(raw, "double_coded_only") or agreement_only,
        agreement_only=agreement_only,
    )


def _date(raw: Mapping[str, Any], field: str) -> dt.date | None:
    value = raw.get(field)
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ExportFilterError(field, f"{value!r} is not a date (YYYY-MM-DD)") from None


def _flag(raw: Mapping[str, Any], field: str) -> bool:
    value = raw.get(field, False)
    if not isinstance(value, bool):
        raise ExportFilterError(field, f"must be true or false, not {value!r}")
    return value


def _ids(value: Any, field: str) -> list[int]:
    items = value if isinstance(value, list | tuple) else [value]
    ids = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise ExportFilterError(field, f"{item!r} is not an id")
        try:
            ids.append(int(item))
        except ValueError:
            raise ExportFilterError(field, f"{item!r} is not an id") from None
    return ids


def _model_version(value: Any) -> int | None:
    if value in (None, ""):
        return None
    (version_id,) = _ids([value], "model_version")
    if not ModelVersion.objects.filter(pk=version_id).exists():
        raise ExportFilterError("model_version", f"no model version has id {version_id}")
    return version_id


def _coders(value: Any) -> tuple[int, ...]:
    if value in (None, "", []):
        return ()
    ids = sorted(set(_ids(value, "coders")))
    found = set(User.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        raise ExportFilterError("coders", f"no user has id {', '.join(missing)}")
    return tuple(ids)


def _chapters(value: Any) -> tuple[str, ...]:
    if value in (None, "", []):
        return ()
    items = value if isinstance(value, list | tuple) else [value]
    wanted = []
    for item in items:
        text = str(item).strip()
        if not text.isdigit():
            raise ExportFilterError("chapters", f"{item!r} is not a chapter number (1 to 22)")
        wanted.append(str(int(text)))
    release = CodeRelease.objects.filter(is_active=True).first()
    if release is None:
        raise ExportFilterError("chapters", "no code set is loaded to check chapters against")
    known = set(
        Code.objects.filter(release=release, kind=CodeKind.CHAPTER).values_list("code", flat=True)
    )
    unknown = [chapter for chapter in wanted if chapter not in known]
    if unknown:
        raise ExportFilterError(
            "chapters", f"{', '.join(unknown)} is not a chapter of release {release.name}"
        )
    return tuple(sorted(set(wanted), key=int))


# The agreement report is computed by review.stats, which filters by date
# range and model version only.
AGREEMENT_FIELDS = frozenset({"date_from", "date_to", "model_version"})


def filters_check_kind(kind: str, filters: ExportFilters) -> None:
    """Refuse a filter the kind cannot apply, rather than ignore it."""
    if kind != "agreement":
        return
    unset = ExportFilters()
    for name in sorted(FIELDS - AGREEMENT_FIELDS):
        if getattr(filters, name) != getattr(unset, name):
            raise ExportFilterError(
                name, "the agreement report takes only a date range and a model version"
            )


# What the export page calls each filter, in the form's order.
FILTER_NAMES = {
    "date_from": "Submitted from",
    "date_to": "Submitted until",
    "model_version": "Model version",
    "coders": "Coders (user ids)",
    "chapters": "Chapters",
    "double_coded_only": "Double-coded notes only",
    "agreement_only": "Notes the coders agree on only",
}


def filters_in_words(stored: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The filters an export was made with, as (name, value) for its page:
    only those set, so an export of everything lists none."""
    shown = []
    for key, value in (stored or {}).items():
        if value in (None, "", False, [], ()):
            continue
        if isinstance(value, list | tuple):
            text = ", ".join(str(item) for item in value)
        else:
            text = "yes" if value is True else str(value)
        shown.append((FILTER_NAMES.get(key, key.replace("_", " ").capitalize()), text))
    order = list(FILTER_NAMES.values())
    return sorted(shown, key=lambda pair: order.index(pair[0]) if pair[0] in order else len(order))

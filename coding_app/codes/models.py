"""The ICD-10-CM code set as loaded into PostgreSQL, one release at a time."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models.functions import Cast

from coding_app.codes.entry import CodeEntry, CodeKind
from coding_app.codes.forms import CATEGORY_PATTERN

# A code key, a chapter number or a block range: what ``Code.code`` may hold.
CODE_KEY_REGEX = rf"^({CATEGORY_PATTERN}[0-9A-Z]{{0,4}}|[0-9]{{1,2}}|[A-Z0-9]{{3}}-[A-Z0-9]{{3}})$"

# The text search configuration of the search column and of every query
# against it; the two must agree.
SEARCH_CONFIG = "english"


class CodeRelease(models.Model):
    """One release of ICD-10-CM; exactly one is active (the one the desk uses).

    Older releases stay so that suggestions and decisions made under them
    keep their codes.
    """

    name = models.CharField(max_length=100, unique=True)
    checksum = models.CharField(max_length=64, help_text="sha256 of the release files")
    code_count = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=False)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-loaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True),
                name="one_active_code_release",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Code(models.Model):
    """A chapter, block or code of one release, with its notes.

    ``code`` is upper case without a dot (``E1165``); chapters are keyed by
    number and blocks by range (see ``CodeEntry``). ``parent``, ``category``,
    ``block`` and ``chapter`` hold codes of the same release rather than
    foreign keys: the release is loaded in bulk and read as a whole.
    """

    release = models.ForeignKey(CodeRelease, on_delete=models.PROTECT, related_name="codes")
    code = models.CharField(max_length=8)
    dotted = models.CharField(max_length=8)
    description = models.TextField()
    kind = models.CharField(max_length=11, choices=CodeKind.choices)
    chapter = models.CharField(max_length=2)
    block = models.CharField(max_length=7, blank=True)
    category = models.CharField(max_length=3, blank=True)
    parent = models.CharField(max_length=8, blank=True)
    billable = models.BooleanField()
    inclusion_terms = models.JSONField(default=list, blank=True)
    excludes1 = models.JSONField(default=list, blank=True)
    excludes2 = models.JSONField(default=list, blank=True)
    seventh_characters = models.JSONField(default=dict, blank=True)
    # Among equally good search matches, lower comes first (see
    # ``coding_app.codes.search.search_order``).
    search_order = models.PositiveIntegerField(default=0)
    # Description words weigh more than inclusion-term words in the ranking.
    search = models.GeneratedField(
        expression=SearchVector("description", config=SEARCH_CONFIG, weight="A")
        + SearchVector(
            Cast("inclusion_terms", models.TextField()), config=SEARCH_CONFIG, weight="B"
        ),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["release", "code"]
        constraints = [
            models.UniqueConstraint(fields=["release", "code"], name="unique_code_per_release"),
            models.CheckConstraint(
                condition=models.Q(code__regex=CODE_KEY_REGEX),
                name="code_is_upper_case_without_dot",
            ),
        ]
        indexes = [
            GinIndex(fields=["search"], name="code_search_gin"),
            # Prefix search (LIKE 'I21%') needs the pattern operator class.
            models.Index(fields=["code"], name="code_prefix", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.dotted} {self.description}"

    @classmethod
    def from_entry(cls, entry: CodeEntry, release: CodeRelease) -> Code:
        return cls(release=release, **entry_values(entry))

    def values(self) -> dict[str, Any]:
        """The stored fields in ``CodeEntry`` form, to compare with a release."""
        return {name: getattr(self, name) for name in ENTRY_FIELDS}


ENTRY_FIELDS = (
    "code",
    "dotted",
    "description",
    "kind",
    "chapter",
    "block",
    "category",
    "parent",
    "billable",
    "inclusion_terms",
    "excludes1",
    "excludes2",
    "seventh_characters",
)


def entry_values(entry: CodeEntry) -> dict[str, Any]:
    """A ``CodeEntry`` as field values (tuples become JSON lists)."""
    values = {name: getattr(entry, name) for name in ENTRY_FIELDS}
    for name in ("inclusion_terms", "excludes1", "excludes2"):
        values[name] = list(values[name])
    values["kind"] = str(entry.kind.value)
    return values

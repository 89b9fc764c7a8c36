"""Code search for the review desk's autocomplete.

A query is a code prefix (``I21``, ``i21.4``), words of a description or an
inclusion term (``nstemi``, ``type 2 diabetes hyperglycemia``), or a code
prefix followed by words (``E11 hyperglycemia``). Words match by PostgreSQL
full-text search (English stemming); the last word also matches as a prefix,
so results follow the coder's typing. Billable codes come first; then
closeness of the match, shorter codes, and code order.

Only codes of the active release are searched, and only codes a coder can
write (no chapters or blocks). Every query is one indexed SQL statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchVectorExact, SearchVectorField
from django.db.models import F, Func, QuerySet, Subquery
from django.db.models.expressions import Combinable
from django.db.models.functions import Length

from coding_app.codes.entry import DIAGNOSIS_KINDS, CodeEntry, CodeKind
from coding_app.codes.forms import CATEGORY_PATTERN
from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.models import SEARCH_CONFIG, Code, CodeRelease

DEFAULT_LIMIT = 20
MAX_LIMIT = 50
MAX_QUERY = 200
MAX_WORDS = 12
RANKED_CANDIDATES = 300

# A code prefix as typed: the start of a category with a digit in it (so that
# "flu" stays a word), optionally with a dot and more characters.
_PREFIX = re.compile(rf"(?:{CATEGORY_PATTERN}(?:\.?[0-9A-Z]{{0,4}})|[A-Z][0-9])")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class CodeHit:
    code: str
    dotted: str
    description: str
    billable: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "dotted": self.dotted,
            "description": self.description,
            "billable": self.billable,
        }


@dataclass(frozen=True)
class ParsedQuery:
    prefix: str
    words: tuple[str, ...]


def parse_query(text: str) -> ParsedQuery:
    """Split a query into a leading code prefix (key form) and search words."""
    tokens = text[:MAX_QUERY].split()
    prefix = ""
    if tokens and _PREFIX.fullmatch(tokens[0].upper()):
        prefix = tokens.pop(0).upper().replace(".", "")
    words = tuple(_WORD.findall(" ".join(tokens).lower()))[:MAX_WORDS]
    return ParsedQuery(prefix, words)


def search_codes(text: str, limit: int = DEFAULT_LIMIT) -> list[CodeHit]:
    """The best codes of the active release for ``text``, billable first."""
    query = parse_query(text if isinstance(text, str) else "")
    if not query.prefix and not query.words:
        return []
    limit = max(1, min(limit, MAX_LIMIT))
    hits = _hits(query, limit)
    if not hits and query.prefix and not query.words:
        # "b12" typed for vitamin B12: no code starts so, so try it as a word.
        hits = _hits(ParsedQuery("", (query.prefix.lower(),)), limit)
    return hits


def _hits(query: ParsedQuery, limit: int) -> list[CodeHit]:
    codes = Code.objects.filter(
        release=Subquery(CodeRelease.objects.filter(is_active=True).values("pk")[:1]),
        kind__in=DIAGNOSIS_KINDS,
    )
    if query.prefix:
        codes = codes.filter(code__startswith=query.prefix)
    if query.words:
        codes = _ranked(codes.filter(search=_ts_query(query.words)), query.words)
    else:
        codes = codes.order_by("-billable", Length("code"), "code")
    rows = codes.values_list("code", "dotted", "description", "billable")[:limit]
    return [CodeHit(*row) for row in rows]


def _ranked(matches: QuerySet[Code], words: tuple[str, ...]) -> QuerySet[Code]:
    """Order word matches: billable, matched in the description itself (not
    only in an inclusion term), shorter description, code.

    A short code with a short description is the general code a coder
    usually means (I10 Essential (primary) hypertension before the pulmonary
    kinds; see ``search_order``). Ordering
    all matches of a broad word ("fracture" matches 20,000 codes) costs more
    than the autocomplete can spend, so the shortest billable-first 300 are
    taken from the index first and only they are ordered in full.
    """
    brevity: list[str | Combinable] = [Length("code"), "search_order", "code"]
    candidates = matches.order_by("-billable", *brevity)
    described = SearchVectorExact(DescriptionLexemes(F("search")), _ts_query(words))
    return (
        Code.objects.filter(pk__in=Subquery(candidates.values("pk")[:RANKED_CANDIDATES]))
        .annotate(described=described)
        .order_by("-billable", "-described", *brevity)
    )


class DescriptionLexemes(Func):
    """The lexemes of the search column that come from the description
    (weight A; inclusion terms are weight B)."""

    function = "ts_filter"
    template = "%(function)s(%(expressions)s, '{a}')"
    output_field = SearchVectorField()


def _ts_query(words: tuple[str, ...]) -> SearchQuery:
    """All words must match; the last one may be the start of a longer word
    (from two letters on: a single letter would match a third of the table)."""
    last = f"{words[-1]}:*" if len(words[-1]) > 1 else words[-1]
    return SearchQuery(" & ".join([*words[:-1], last]), search_type="raw", config=SEARCH_CONFIG)


def search_order(entry: CodeEntry, hierarchy: Hierarchy) -> int:
    """The tie-break among equally good matches, stored with each code.

    Shorter descriptions first; a 7th-character code counts its parent's
    description and then its character's place in the definition, so that
    S72.001A (initial encounter) comes before S72.001S (sequela) although
    "sequela" is the shorter text.
    """
    if entry.kind != CodeKind.EXTENDED:
        return len(entry.description) * 100
    parent = hierarchy.entry(entry.parent)
    characters = list(hierarchy.seventh_characters(entry.parent))
    place = characters.index(entry.code[-1]) if entry.code[-1] in characters else 99
    return len(parent.description if parent else entry.description) * 100 + min(place, 99)

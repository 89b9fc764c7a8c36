"""Read an ICD-10-CM release: the CDC's tabular list (XML) and its code list.

The ``simple-icd-10-cm`` package ships both files for the April 1, 2026
release; that is the release the desk loads unless it is given other files.
The tabular list holds the tree and every note; the code list is the
authority on which 7th-character codes exist, because a few categories forbid
some of the 7th characters their definition lists (the package's own reader
uses it the same way).

Nothing here touches the database: ``read_release`` turns files into a list
of ``CodeEntry`` or raises ``ReleaseError`` with a message an operator can act
on.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from coding_app.codes.entry import CodeEntry, CodeKind
from coding_app.codes.forms import is_code_key

PACKAGED_TABULAR = "icd10c-tabular-April-1-2026.xml"
PACKAGED_CODE_LIST = "code-list-April-2026.txt"
PACKAGED_RELEASE_NAME = "ICD-10-CM April 1, 2026"

_MONTH_DATE = re.compile(
    r"(January|February|March|April|May|June|July|August|September|"
    r"October|November|December)-(\d{1,2})-(\d{4})"
)


class ReleaseError(Exception):
    """A release file is missing, unreadable or not an ICD-10-CM release."""


@dataclass(frozen=True)
class ReleaseFiles:
    tabular: Path
    code_list: Path

    @classmethod
    def packaged(cls) -> ReleaseFiles:
        # Found without importing the package: its import parses the whole
        # release (seconds) into structures the desk does not use.
        spec = importlib.util.find_spec("simple_icd_10_cm")
        if spec is None or not spec.submodule_search_locations:
            raise ReleaseError("The simple-icd-10-cm package is not installed.")
        data = Path(next(iter(spec.submodule_search_locations))) / "data"
        return cls(data / PACKAGED_TABULAR, data / PACKAGED_CODE_LIST)

    def default_name(self) -> str:
        """A readable release name, taken from the file name when it has a date."""
        if self == ReleaseFiles.packaged():
            return PACKAGED_RELEASE_NAME
        match = _MONTH_DATE.search(self.tabular.name)
        if match:
            month, day, year = match.groups()
            return f"ICD-10-CM {month} {int(day)}, {year}"
        return f"ICD-10-CM ({self.tabular.name})"

    def checksum(self) -> str:
        """sha256 over both files, so a changed file means a changed release."""
        digest = hashlib.sha256()
        for path in (self.tabular, self.code_list):
            digest.update(_read_bytes(path))
        return digest.hexdigest()


@dataclass(frozen=True)
class Release:
    name: str
    checksum: str
    entries: list[CodeEntry]


def read_release(files: ReleaseFiles | None = None, name: str | None = None) -> Release:
    """Parse a release into entries, chapters first, in tabular order."""
    files = files or ReleaseFiles.packaged()
    confirmed = _read_code_list(files.code_list)
    root = _read_tabular(files.tabular)
    entries = list(_walk_chapters(root, confirmed))
    _check_complete(entries, confirmed, files)
    return Release(name or files.default_name(), files.checksum(), entries)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ReleaseError(f"The release file {path} does not exist.") from None
    except OSError as error:
        raise ReleaseError(f"The release file {path} cannot be read: {error.strerror}.") from None


def _read_code_list(path: Path) -> frozenset[str]:
    try:
        text = _read_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise ReleaseError(f"The code list {path} is not UTF-8 text.") from None
    codes = frozenset(line.split(" ")[0].strip().replace(".", "") for line in text.splitlines())
    codes = codes - {""}
    if not any(_looks_like_code(code) for code in codes):
        raise ReleaseError(f"The code list {path} holds no ICD-10-CM codes.")
    return codes


def _read_tabular(path: Path) -> ET.Element:
    data = _read_bytes(path)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        line, column = error.position
        raise ReleaseError(
            f"The tabular list {path} is not well-formed XML (line {line}, column {column}); "
            "the file is probably truncated or damaged."
        ) from None
    if root.tag != "ICD10CM.tabular" or root.find("chapter") is None:
        raise ReleaseError(
            f"The file {path} is XML but not an ICD-10-CM tabular list "
            f"(its root is <{root.tag}> and it has no <chapter>)."
        )
    return root


def _looks_like_code(text: str) -> bool:
    return is_code_key(text)


def _check_complete(
    entries: list[CodeEntry], confirmed: frozenset[str], files: ReleaseFiles
) -> None:
    """Refuse a code list and tabular list that belong to different releases."""
    counts = Counter(entry.code for entry in entries)
    repeated = sorted(code for code, count in counts.items() if count > 1)
    if repeated:
        raise ReleaseError(
            f"The tabular list {files.tabular} names {', '.join(repeated[:5])} more than once."
        )
    diagnosis = {entry.code for entry in entries if entry.is_diagnosis}
    listed = {code for code in confirmed if _looks_like_code(code) and "-" not in code}
    missing = sorted(listed - diagnosis)
    if missing:
        raise ReleaseError(
            f"The code list {files.code_list} names {len(missing)} codes that the tabular list "
            f"{files.tabular} lacks (for example {', '.join(missing[:5])}); "
            "the two files are from different releases."
        )


@dataclass(frozen=True)
class _Context:
    """What a node inherits from above it while the tree is walked."""

    chapter: str
    block: str
    parent: str
    seventh_characters: dict[str, str]


def _walk_chapters(root: ET.Element, confirmed: frozenset[str]) -> Iterator[CodeEntry]:
    for chapter in root.iter("chapter"):
        number = _text(chapter, "name")
        yield _entry(chapter, number, number, CodeKind.CHAPTER, _Context(number, "", "", {}))
        for section in chapter.iter("section"):
            block = _block_code(section)
            yield _entry(section, block, block, CodeKind.BLOCK, _Context(number, "", number, {}))
            for category in section.findall("diag"):
                yield from _walk_diag(category, _Context(number, block, block, {}), confirmed)


def _walk_diag(
    node: ET.Element, context: _Context, confirmed: frozenset[str]
) -> Iterator[CodeEntry]:
    dotted = _text(node, "name")
    code = dotted.replace(".", "")
    kind = CodeKind.CATEGORY if len(code) == 3 else CodeKind.SUBCATEGORY
    own_seventh = _seventh_characters(node)
    seventh = own_seventh or context.seventh_characters
    children = node.findall("diag")
    extensions = [] if children else _extensions(code, seventh, confirmed)
    yield _entry(node, code, dotted, kind, context, billable=not children and not extensions)
    below = _Context(context.chapter, context.block, code, seventh)
    for child in children:
        yield from _walk_diag(child, below, confirmed)
    description = _text(node, "desc")
    for extended, meaning in extensions:
        yield CodeEntry(
            code=extended,
            dotted=f"{extended[:3]}.{extended[3:]}",
            description=f"{description}, {meaning}",
            kind=CodeKind.EXTENDED,
            chapter=context.chapter,
            block=context.block,
            category=code[:3],
            parent=code,
            billable=True,
        )


def _extensions(
    code: str, seventh: dict[str, str], confirmed: frozenset[str]
) -> list[tuple[str, str]]:
    """The 7th-character codes under a leaf, with X placeholders to 6 places."""
    stem = code.ljust(6, "X")
    return [(stem + char, meaning) for char, meaning in seventh.items() if stem + char in confirmed]


def _entry(
    node: ET.Element,
    code: str,
    dotted: str,
    kind: CodeKind,
    context: _Context,
    billable: bool = False,
) -> CodeEntry:
    is_diagnosis = kind not in (CodeKind.CHAPTER, CodeKind.BLOCK)
    return CodeEntry(
        code=code,
        dotted=dotted,
        description=_text(node, "desc"),
        kind=kind,
        chapter=context.chapter,
        block=context.block if is_diagnosis else (code if kind == CodeKind.BLOCK else ""),
        category=code[:3] if is_diagnosis else "",
        parent=context.parent,
        billable=billable,
        inclusion_terms=_notes(node, "inclusionTerm"),
        excludes1=_notes(node, "excludes1"),
        excludes2=_notes(node, "excludes2"),
        seventh_characters=_seventh_characters(node),
    )


def _block_code(section: ET.Element) -> str:
    block = section.get("id", "").strip().upper()
    if not block:
        raise ReleaseError("A <section> of the tabular list has no id; the file is damaged.")
    return block if "-" in block else f"{block}-{block}"


def _text(node: ET.Element, tag: str) -> str:
    text = node.findtext(tag)
    if text is None or not text.strip():
        name = node.findtext("name") or node.get("id")
        where = f" ({name})" if name else ""
        raise ReleaseError(
            f"A <{node.tag}>{where} of the tabular list has no <{tag}>; the file is damaged."
        )
    return " ".join(text.split())


def _notes(node: ET.Element, tag: str) -> tuple[str, ...]:
    return tuple(
        " ".join(note.text.split())
        for group in node.findall(tag)
        for note in group.findall("note")
        if note.text and note.text.strip()
    )


def _seventh_characters(node: ET.Element) -> dict[str, str]:
    """The node's own 7th characters; a <note> inside extends the one before."""
    definition = node.find("sevenChrDef")
    if definition is None:
        return {}
    meanings: dict[str, str] = {}
    last = ""
    for item in definition:
        text = " ".join((item.text or "").split())
        if item.tag == "extension" and item.get("char"):
            last = item.get("char", "").upper()
            meanings[last] = text
        elif item.tag == "note" and last and text:
            meanings[last] = f"{meanings[last]} ({text})"
    return meanings

"""``manage.py load_codes``: idempotent, one transaction, clear about bad files."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from coding_app.codes import loading
from coding_app.codes.release import PACKAGED_RELEASE_NAME, ReleaseFiles
from coding_app.codes.store import current_hierarchy
from coding_app.models import Code, CodeRelease
from tests.coding_app.test_codes_support import ensure_code_set_loaded

pytestmark = pytest.mark.django_db

TINY_TABULAR = """<?xml version="1.0" encoding="utf-8"?>
<ICD10CM.tabular>
  <version>2099</version>
  <introduction><introSection type="title"><title>Test</title></introSection></introduction>
  <chapter>
    <name>9</name>
    <desc>Diseases of the circulatory system (I00-I99)</desc>
    <section id="I20-I25">
      <desc>Ischemic heart diseases (I20-I25)</desc>
      <diag>
        <name>I21</name>
        <desc>Acute myocardial infarction</desc>
        <excludes2><note>old myocardial infarction (I25.2)</note></excludes2>
        <diag>
          <name>I21.4</name>
          <desc>Non-ST elevation (NSTEMI) myocardial infarction</desc>
          <inclusionTerm><note>Nontransmural myocardial infarction NOS</note></inclusionTerm>
        </diag>
        <diag><name>I21.9</name><desc>Acute myocardial infarction, unspecified</desc></diag>
      </diag>
    </section>
  </chapter>
  <chapter>
    <name>19</name>
    <desc>Injury, poisoning and certain other consequences of external causes (S00-T88)</desc>
    <section id="S70-S79">
      <desc>Injuries to the hip and thigh (S70-S79)</desc>
      <diag>
        <name>S72</name>
        <desc>Fracture of femur</desc>
        <sevenChrDef>
          <extension char="A">initial encounter for closed fracture</extension>
          <extension char="D">subsequent encounter for closed fracture</extension>
        </sevenChrDef>
        <diag><name>S72.9</name><desc>Unspecified fracture of femur</desc>
          <diag><name>S72.90</name><desc>Unspecified fracture of unspecified femur</desc></diag>
        </diag>
      </diag>
    </section>
  </chapter>
</ICD10CM.tabular>
"""
TINY_CODE_LIST = "9\nI20-I25\nI21\nI214\nI219\n19\nS70-S79\nS72\nS729\nS7290\nS7290XA\n"


@pytest.fixture(scope="session")
def code_set(django_db_setup: None, django_db_blocker: Any) -> None:
    ensure_code_set_loaded(django_db_blocker)


@pytest.fixture(autouse=True)
def _loaded(code_set: None) -> None:
    """Every test here starts from the packaged release, loaded and active."""


@pytest.fixture
def tiny(tmp_path: Path) -> ReleaseFiles:
    files = ReleaseFiles(tmp_path / "icd10cm-tabular-tiny.xml", tmp_path / "codes-tiny.txt")
    files.tabular.write_text(TINY_TABULAR, encoding="utf-8")
    files.code_list.write_text(TINY_CODE_LIST, encoding="utf-8")
    return files


def load(*args: str, **options: Any) -> str:
    out = io.StringIO()
    call_command("load_codes", *args, stdout=out, **options)
    return out.getvalue()


def load_files(files: ReleaseFiles, name: str = "Tiny test release") -> str:
    return load(str(files.tabular), code_list=str(files.code_list), name=name)


def table_state() -> tuple[Any, ...]:
    """Everything a load could change, xmin included: a row rewritten with
    the same values still gets a new xmin."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), md5(string_agg(id::text || ':' || xmin::text, ',' ORDER BY id)) "
            "FROM coding_app_code"
        )
        codes = cursor.fetchone()
    releases = list(CodeRelease.objects.order_by("pk").values_list())
    return codes, releases


@pytest.fixture
def unchanged() -> Iterator[None]:
    before = table_state()
    yield
    assert table_state() == before


def test_second_run_changes_nothing(unchanged: None) -> None:
    started = time.monotonic()
    output = load()
    assert time.monotonic() - started < 30
    assert output.strip() == (
        f"{PACKAGED_RELEASE_NAME}: 98,505 codes, already loaded; nothing changed."
    )


def test_loaded_release_is_the_active_one_with_every_code() -> None:
    release = CodeRelease.objects.get(is_active=True)
    assert release.name == PACKAGED_RELEASE_NAME
    assert release.code_count == Code.objects.filter(release=release).count() == 98505
    assert len(release.checksum) == 64
    nstemi = Code.objects.get(release=release, code="I214")
    assert (nstemi.dotted, nstemi.kind, nstemi.billable) == ("I21.4", "subcategory", True)
    assert "Acute subendocardial myocardial infarction" in nstemi.inclusion_terms


def test_another_release_becomes_active_and_the_old_one_stays(tiny: ReleaseFiles) -> None:
    output = load_files(tiny)
    assert "11 codes (11 added, 0 changed, 0 removed), now the active release" in output
    active = CodeRelease.objects.get(is_active=True)
    assert active.name == "Tiny test release"
    assert CodeRelease.objects.get(name=PACKAGED_RELEASE_NAME).codes.count() == 98505
    hierarchy = current_hierarchy()
    assert hierarchy.release == "Tiny test release"
    # The code list allows S72.90XA but not S72.90XD.
    assert hierarchy.children("S72.90") == ("S7290XA",)


def test_reloading_changed_files_applies_only_the_difference(tiny: ReleaseFiles) -> None:
    load_files(tiny)
    ids = dict(Code.objects.filter(release__name="Tiny test release").values_list("code", "id"))
    tiny.tabular.write_text(
        TINY_TABULAR.replace("Acute myocardial infarction, unspecified", "Acute MI, unspecified")
        .replace(
            "<diag><name>I21.9</name>",
            "<diag><name>I21.A1</name><desc>Type 2 MI</desc></diag><diag><name>I21.9</name>",
        )
        .replace("<name>I21.4</name>", "<name>I21.3</name>"),
        encoding="utf-8",
    )
    tiny.code_list.write_text(TINY_CODE_LIST.replace("I214", "I213"), encoding="utf-8")
    output = load_files(tiny)
    assert "12 codes (2 added, 1 changed, 1 removed)" in output
    after = dict(Code.objects.filter(release__name="Tiny test release").values_list("code", "id"))
    assert after["I219"] == ids["I219"]  # updated in place
    assert "I214" not in after
    assert {"I213", "I21A1"} <= set(after)
    entry = current_hierarchy().entry("I21.9")
    assert entry is not None
    assert entry.description == "Acute MI, unspecified"


def test_failure_while_writing_leaves_the_table_as_it_was(
    tiny: ReleaseFiles, monkeypatch: pytest.MonkeyPatch, unchanged: None
) -> None:
    def fail(record: CodeRelease) -> bool:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(loading, "_activate", fail)
    with pytest.raises(RuntimeError, match="the disk is full"):
        load_files(tiny)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: f.tabular.write_text(TINY_TABULAR[:900]), "not well-formed XML (line"),
        (lambda f: f.tabular.unlink(), "does not exist"),
        (lambda f: f.tabular.write_text("<html><body/></html>"), "not an ICD-10-CM tabular list"),
        (lambda f: f.tabular.write_bytes(b"\x00\xff" * 100), "not well-formed XML"),
        (
            lambda f: f.tabular.write_text(TINY_TABULAR.replace("<name>I21.9</name>", "")),
            "A <diag> of the tabular list has no <name>",
        ),
        (lambda f: f.code_list.write_bytes(b"\xff\xfe\x00"), "is not UTF-8 text"),
        (lambda f: f.code_list.write_text("hello\nworld\n"), "holds no ICD-10-CM codes"),
        (
            lambda f: f.code_list.write_text(TINY_CODE_LIST + "E1165\n"),
            "names 1 codes that the tabular list",
        ),
    ],
)
def test_missing_or_corrupt_release_fails_clearly_and_changes_nothing(
    tiny: ReleaseFiles, damage: Any, message: str, unchanged: None
) -> None:
    damage(tiny)
    with pytest.raises(CommandError, match=re.escape(message)) as raised:
        load_files(tiny)
    assert str(raised.value).endswith("Nothing was changed.")


def test_tabular_file_needs_its_code_list(tiny: ReleaseFiles, unchanged: None) -> None:
    with pytest.raises(CommandError, match="Give both a tabular list file and --code-list"):
        load(str(tiny.tabular))


def test_release_name_comes_from_a_dated_file_name(tmp_path: Path) -> None:
    files = ReleaseFiles(tmp_path / "icd10cm-tabular-October-1-2026.xml", tmp_path / "c.txt")
    assert files.default_name() == "ICD-10-CM October 1, 2026"
    assert ReleaseFiles.packaged().default_name() == PACKAGED_RELEASE_NAME

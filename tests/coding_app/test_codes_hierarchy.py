"""The release as read from the package, and how codes relate in its tree."""

from __future__ import annotations

import pytest

from coding_app.codes.entry import CodeKind
from coding_app.codes.hierarchy import Hierarchy, Relation
from coding_app.codes.store import current_hierarchy
from tests.coding_app.test_codes_support import ensure_code_set_loaded, packaged_hierarchy


@pytest.fixture(scope="session")
def hierarchy() -> Hierarchy:
    return packaged_hierarchy()


@pytest.fixture(scope="session")
def code_set(django_db_setup: None, django_db_blocker: object) -> None:
    ensure_code_set_loaded(django_db_blocker)


def test_release_has_every_level_of_the_tree(hierarchy: Hierarchy) -> None:
    kinds = {kind: 0 for kind in CodeKind}
    for entry in hierarchy:
        kinds[entry.kind] += 1
    assert kinds[CodeKind.CHAPTER] == 22
    assert kinds[CodeKind.BLOCK] == 297
    assert kinds[CodeKind.CATEGORY] == 1918
    assert kinds[CodeKind.EXTENDED] == 51305
    assert len(hierarchy) == 98505
    assert hierarchy.release == "ICD-10-CM April 1, 2026"


def test_entry_carries_its_place_and_notes(hierarchy: Hierarchy) -> None:
    nstemi = hierarchy.entry("I21.4")
    assert nstemi is not None
    assert (nstemi.code, nstemi.dotted, nstemi.kind) == ("I214", "I21.4", CodeKind.SUBCATEGORY)
    assert (nstemi.chapter, nstemi.block, nstemi.category, nstemi.parent) == (
        "9",
        "I20-I25",
        "I21",
        "I21",
    )
    assert nstemi.billable
    assert "Acute subendocardial myocardial infarction" in nstemi.inclusion_terms
    diabetes = hierarchy.entry("E11")
    assert diabetes is not None
    assert not diabetes.billable
    assert "type 1 diabetes mellitus (E10.-)" in diabetes.excludes1


def test_seventh_character_codes_come_from_the_category_definition(hierarchy: Hierarchy) -> None:
    extended = hierarchy.entry("S72.001A")
    assert extended is not None
    assert extended.kind == CodeKind.EXTENDED
    assert extended.parent == "S72001"
    assert extended.description.endswith(", initial encounter for closed fracture")
    assert hierarchy.seventh_characters("S72001")["A"] == "initial encounter for closed fracture"
    placeholder = hierarchy.entry("T36.0X1A")
    assert placeholder is not None
    assert placeholder.parent == "T360X1"


def test_code_list_removes_seventh_characters_a_code_does_not_take(hierarchy: Hierarchy) -> None:
    # S06.1X7 (traumatic cerebral edema with death) takes only A; the
    # category defines D and S as well.
    assert set(hierarchy.seventh_characters("S061X7")) >= {"A", "D", "S"}
    assert hierarchy.children("S061X7") == ("S061X7A",)


def test_one_category_block_is_keyed_by_its_range(hierarchy: Hierarchy) -> None:
    block = hierarchy.entry("B10-B10")
    category = hierarchy.entry("B10")
    assert block is not None
    assert block.kind == CodeKind.BLOCK
    assert category is not None
    assert category.kind == CodeKind.CATEGORY
    assert category.parent == "B10-B10"


def test_category_with_a_letter_second_is_a_code(hierarchy: Hierarchy) -> None:
    entry = hierarchy.entry("qa0.0101")
    assert entry is not None
    assert entry.billable
    assert entry.chapter == "17"


def test_lineage_runs_from_the_code_to_its_chapter(hierarchy: Hierarchy) -> None:
    lineage = [entry.code for entry in hierarchy.lineage("E11.65")]
    assert lineage == ["E1165", "E116", "E11", "E08-E13", "4"]


def test_billable_under_a_header_lists_leaves_in_release_order(hierarchy: Hierarchy) -> None:
    codes = [entry.dotted for entry in hierarchy.billable_under("E11.6", limit=3)]
    assert codes == ["E11.610", "E11.618", "E11.620"]


@pytest.mark.parametrize(
    ("a", "b", "relation"),
    [
        ("E11.65", "E11.65", Relation.EXACT),
        ("e11.65", " E1165 ", Relation.EXACT),
        ("E11", "E11.65", Relation.ANCESTOR),
        ("E11.6", "E11.65", Relation.ANCESTOR),
        ("E11.65", "E11", Relation.DESCENDANT),
        ("S72.001", "S72.001A", Relation.ANCESTOR),
        ("S72.001A", "S72.001D", Relation.SIBLING),
        ("E11.65", "E11.69", Relation.SIBLING),
        ("E11.9", "E11.8", Relation.SIBLING),
        ("I21.4", "I21.9", Relation.SIBLING),
        ("E11.65", "E11.9", Relation.SAME_CATEGORY),
        ("I21.4", "I21.A1", Relation.SAME_CATEGORY),
        ("E11.65", "E10.9", Relation.SAME_BLOCK),
        ("E10", "E11", Relation.SAME_BLOCK),
        ("I21.4", "I25.10", Relation.SAME_BLOCK),
        ("E11.65", "E03.9", Relation.SAME_CHAPTER),
        ("I21.4", "I10", Relation.SAME_CHAPTER),
        ("E11.65", "I21.4", Relation.UNRELATED),
        ("S72.001A", "J18.9", Relation.UNRELATED),
        ("S72.001A", "T36.0X1A", Relation.SAME_CHAPTER),
        ("E11.659", "E11.65", Relation.UNRELATED),
        ("E11.659", "e11.659", Relation.EXACT),
        ("not a code", "not a code", Relation.UNRELATED),
        ("", "", Relation.UNRELATED),
    ],
)
def test_relation_between_real_codes(
    hierarchy: Hierarchy, a: str, b: str, relation: Relation
) -> None:
    assert hierarchy.relation(a, b) == relation


@pytest.mark.parametrize(
    ("a", "b"), [("E11", "E11.65"), ("E11.65", "E11.69"), ("E11.65", "E03.9"), ("I21.4", "J18.9")]
)
def test_relation_reads_the_same_from_either_side(hierarchy: Hierarchy, a: str, b: str) -> None:
    forward, backward = hierarchy.relation(a, b), hierarchy.relation(b, a)
    assert forward.closeness == backward.closeness
    mirrored = {Relation.ANCESTOR: Relation.DESCENDANT, Relation.DESCENDANT: Relation.ANCESTOR}
    assert mirrored.get(forward, forward) == backward


def test_closeness_orders_the_relations_from_exact_to_unrelated() -> None:
    order = [
        Relation.EXACT,
        Relation.ANCESTOR,
        Relation.SIBLING,
        Relation.SAME_CATEGORY,
        Relation.SAME_BLOCK,
        Relation.SAME_CHAPTER,
        Relation.UNRELATED,
    ]
    closeness = [relation.closeness for relation in order]
    assert closeness == sorted(closeness, reverse=True)
    assert len(set(closeness)) == len(closeness)
    assert Relation.ANCESTOR.closeness == Relation.DESCENDANT.closeness


@pytest.mark.django_db
def test_hierarchy_from_the_table_equals_the_release(code_set: None, hierarchy: Hierarchy) -> None:
    from_table = current_hierarchy()
    assert from_table.release == hierarchy.release
    assert sorted(from_table, key=lambda e: e.code) == sorted(hierarchy, key=lambda e: e.code)

"""The layout holds: layers, no import cycles, small modules and functions.

The rules of ``../shared/DESIGN.md`` and the style guide, checked on the
source so that a change that breaks one fails here with the names to fix.
"""

from __future__ import annotations

import pytest

from tests import layout_rules

APPS = layout_rules.LAYERS
# Benchmarks are code we run and read too; tests are left out of the
# function rule (a browser scenario reads best as one story) but not of the
# module rule.
PRODUCT = (*APPS, "bench")
# SQL builders: one statement each, longer than 40 lines because the query is.
SQL_BUILDERS = frozenset(
    {
        "review/stats/coders.py:_sql",
        "training/exports/source.py:review_records_sql",
    }
)


@pytest.fixture(scope="module")
def graph() -> tuple[dict[str, layout_rules.Module], set[tuple[str, str]]]:
    modules = layout_rules.app_modules()
    return modules, layout_rules.import_edges(modules)


def test_no_app_imports_an_app_above_it(graph) -> None:
    _, edges = graph
    assert layout_rules.upward_imports(edges) == []


def test_no_import_cycle_between_the_parts_of_any_package(graph) -> None:
    modules, edges = graph
    assert layout_rules.package_cycles(modules, edges) == []


def test_the_checks_see_a_cycle_and_an_upward_import() -> None:
    # The rules must be able to fail: a made-up graph with both faults.
    packages = ("worker", "worker.a", "worker.b", "review", "review.c")
    modules = {
        name: layout_rules.Module(name, layout_rules.ROOT, is_package=name in packages)
        for name in (*packages, "worker.a.services", "worker.b.views", "worker.tasks")
    }
    # worker.a -> worker.tasks -> worker.b -> worker.a: through a module.
    edges = {
        ("worker.a.services", "worker.tasks"),
        ("worker.tasks", "worker.b.views"),
        ("worker.b.views", "worker.a.services"),
        ("worker.a.services", "review.c"),
    }
    assert layout_rules.package_cycles(modules, edges) == [["worker.a", "worker.b", "worker.tasks"]]
    assert layout_rules.upward_imports(edges) == ["worker.a.services imports review.c"]


def test_no_module_over_400_lines() -> None:
    assert layout_rules.long_modules((*PRODUCT, "tests"), 400) == []


def test_no_function_over_40_lines_outside_sql_builders() -> None:
    assert layout_rules.long_functions(PRODUCT, 40, SQL_BUILDERS) == []


def test_no_view_or_task_over_20_lines() -> None:
    assert layout_rules.long_entry_points(APPS, 20) == []

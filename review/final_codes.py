"""A review's final codes: the one rule, in Python and in SQL.

A decision puts at most one code into the coder's final set:

- ``accept`` and ``add``: its ``code`` (the suggestion's, or the added one);
- ``replace``: its ``replacement`` (the code put in the suggestion's place);
- ``reject``, and any other action: no code.

A review's final codes are those of its decisions. ``decision_final_code``
is the rule for Python (``Decision.final_code``, the training labels) and
``final_code_sql`` the same rule for queries (the exports, the statistics);
``tests/review/test_final_codes.py`` runs both on every kind of decision
stored in PostgreSQL and fails when they differ.

This module imports no model, so that the model can call it.
"""

from __future__ import annotations

# The database values of ``Decision.Action`` that keep a code; written out
# because the model imports this module, not the other way round.
_KEEPS_CODE = ("accept", "add")
_KEEPS_REPLACEMENT = ("replace",)


def decision_final_code(*, action: str, code: str, replacement: str) -> str | None:
    """The code a decision with these fields puts in the final set, or None."""
    if action in _KEEPS_CODE:
        return code
    if action in _KEEPS_REPLACEMENT:
        return replacement
    return None


def final_code_sql(decision: str = "d") -> str:
    """The SQL expression of ``decision_final_code`` for a ``review_decision``
    row aliased ``decision``: the code, or NULL when it keeps none."""
    return (
        f"CASE WHEN {decision}.action IN ({_sql_list(_KEEPS_CODE)}) THEN {decision}.code"
        f" WHEN {decision}.action IN ({_sql_list(_KEEPS_REPLACEMENT)})"
        f" THEN {decision}.replacement END"
    )


def _sql_list(values: tuple[str, ...]) -> str:
    # Our own constants, never user input: safe to inline as literals.
    return ", ".join(f"'{value}'" for value in values)

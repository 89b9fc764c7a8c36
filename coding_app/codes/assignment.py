"""Optimal assignment (the Hungarian method) for pairing two small code sets.

Pure Python on purpose: the sets a note carries are tens of codes at most,
and the domain core should not depend on scipy for a 40-line algorithm.
Integer weights stay exact (Python ints), which the lexicographic weighting
of ``diff`` relies on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def max_weight_pairs(weights: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    """Row/column pairs with the largest total weight; zero-weight pairs dropped.

    ``weights`` is a rectangular matrix of non-negative integers (rows may
    outnumber columns or not). Each row and each column is used at most once.
    """
    rows = len(weights)
    columns = len(weights[0]) if rows else 0
    if not rows or not columns:
        return []
    transposed = rows > columns
    matrix = [list(column) for column in zip(*weights, strict=True)] if transposed else weights
    heaviest = max(max(row) for row in matrix)
    costs = [[heaviest - weight for weight in row] for row in matrix]
    pairs = [(row, column) for row, column in enumerate(_min_cost_rows(costs))]
    if transposed:
        pairs = [(column, row) for row, column in pairs]
    return sorted((r, c) for r, c in pairs if weights[r][c] > 0)


def _min_cost_rows(costs: list[list[int]]) -> list[int]:
    """For each row (rows <= columns), the column of a minimum-cost assignment."""
    columns = len(costs[0])
    row_potential = [0] * (len(costs) + 1)
    column_potential = [0] * (columns + 1)
    owner = [0] * (columns + 1)  # 1-based row assigned to each column; 0 is free
    for row in range(1, len(costs) + 1):
        _augment(costs, row, row_potential, column_potential, owner)
    assignment = [0] * len(costs)
    for column in range(1, columns + 1):
        if owner[column]:
            assignment[owner[column] - 1] = column - 1
    return assignment


def _augment(
    costs: list[list[int]],
    row: int,
    row_potential: list[int],
    column_potential: list[int],
    owner: list[int],
) -> None:
    """Add ``row`` to the assignment along a shortest augmenting path."""
    columns = len(costs[0])
    owner[0] = row
    current = 0
    slack: list[float] = [math.inf] * (columns + 1)
    came_from = [0] * (columns + 1)
    used = [False] * (columns + 1)
    while owner[current]:
        used[current] = True
        at_row, delta, following = owner[current], math.inf, 0
        for column in range(1, columns + 1):
            if used[column]:
                continue
            reduced = (
                costs[at_row - 1][column - 1] - row_potential[at_row] - column_potential[column]
            )
            if reduced < slack[column]:
                slack[column], came_from[column] = reduced, current
            if slack[column] < delta:
                delta, following = slack[column], column
        step = int(delta)
        for column in range(columns + 1):
            if used[column]:
                row_potential[owner[column]] += step
                column_potential[column] -= step
            else:
                slack[column] -= step
        current = following
    while current:
        previous = came_from[current]
        owner[current] = owner[previous]
        current = previous

"""A small labelled set of notes, as coders would leave it (no tests here).

Notes mention a few of eight conditions in varied words, each condition
always coded the same way (the codes a coder picks, which similarity alone
often misses: the organism code beside a urinary infection, the
exacerbation rather than plain COPD). Each condition is written three ways,
so a model can train on two phrasings and be tested on the third.
``NEIGHBOUR_CATEGORIES`` are the categories around those codes, so an index
narrowed to them builds in seconds.
"""

from __future__ import annotations

import random

from worker.backends.embedding.signals.feedback import ReviewedNote

# condition -> (the codes coders give, three ways a note says it)
CONDITIONS: dict[str, tuple[tuple[str, ...], tuple[str, str, str]]] = {
    "diabetes": (
        ("E1165",),
        (
            "Type 2 diabetes, glucose 310 today despite metformin.",
            "Her sugars run high on oral agents; HbA1c 10.2 %.",
            "Poorly controlled type 2 diabetes with hyperglycaemia on the last panel.",
        ),
    ),
    "hypertension": (
        ("I10",),
        (
            "Blood pressure 168/95, on amlodipine for years.",
            "Long-standing high blood pressure, treated.",
            "Known hypertensive, BP still elevated at this visit.",
        ),
    ),
    "uti": (
        ("N390", "B9620"),
        (
            "Dysuria and frequency; urine culture grew E. coli.",
            "Urinary infection, cultures positive for Escherichia coli.",
            "Burning on micturition, E. coli bacteriuria on culture.",
        ),
    ),
    "copd": (
        ("J441",),
        (
            "COPD flare with more sputum and wheeze this week.",
            "Worsening breathlessness in his chronic obstructive lung disease.",
            "Acute exacerbation of emphysema, needed nebulisers.",
        ),
    ),
    "pneumonia": (
        ("J189",),
        (
            "Fever, cough and a right lower lobe consolidation on x-ray.",
            "Chest film shows an infiltrate; treated as community pneumonia.",
            "Crackles at the left base, lobar pneumonia on imaging.",
        ),
    ),
    "anemia": (
        ("D500",),
        (
            "Ferritin 6, microcytic anaemia from slow GI bleeding.",
            "Iron deficiency from chronic blood loss, haemoglobin 8.9.",
            "Low iron stores after months of occult bleeding; Hb 9.",
        ),
    ),
    "depression": (
        ("F321",),
        (
            "Low mood, poor sleep and anhedonia for two months.",
            "Moderate depressive episode, started sertraline.",
            "Feels hopeless and tearful; a first depressive episode of moderate degree.",
        ),
    ),
    "infarction": (
        ("I214",),
        (
            "Troponin rising, ST depression: non-ST elevation infarction.",
            "NSTEMI on admission, taken for angiography.",
            "Chest pain with raised troponin and no ST elevation, an NSTEMI.",
        ),
    ),
}
FILLER = (
    "Seen in clinic today.",
    "Lives with his wife.",
    "No known drug allergies.",
    "Review in four weeks.",
    "Vital signs otherwise stable.",
)
NEIGHBOUR_CATEGORIES = {
    "E10",
    "E11",
    "E13",
    "E16",
    "I10",
    "I11",
    "I12",
    "I15",
    "I20",
    "I21",
    "I22",
    "I24",
    "I25",
    "N30",
    "N39",
    "B95",
    "B96",
    "A41",
    "J12",
    "J13",
    "J15",
    "J18",
    "J44",
    "J43",
    "J45",
    "J20",
    "D50",
    "D51",
    "D53",
    "D62",
    "D64",
    "F32",
    "F33",
    "F34",
    "F41",
    "R73",
    "R31",
    "R05",
    "R06",
}


def synthetic_notes(count: int, phrasings: tuple[int, ...], seed: int) -> list[ReviewedNote]:
    chooser = random.Random(seed)
    notes = []
    for number in range(count):
        names = chooser.sample(sorted(CONDITIONS), chooser.choice((2, 3)))
        lines = [chooser.choice(FILLER)]
        codes: set[str] = set()
        for name in names:
            gold, phrases = CONDITIONS[name]
            lines.append(phrases[chooser.choice(phrasings)])
            codes.update(gold)
        chooser.shuffle(lines)
        notes.append(ReviewedNote(seed * 1000 + number, "\n".join(lines), frozenset(codes)))
    return notes

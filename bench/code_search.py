"""Time the review desk's code search over the whole release: 200 fixed queries.

Run from the repository root with DATABASE_URL (and REDIS_URL) set, after
``manage.py migrate``. Loads the packaged release first if it is not the
active one. Every query runs once to warm the caches, then once timed; the
time is the whole ``search_codes`` call (ORM and database). The last line
printed is one JSON object: {"p50_ms": ..., "p95_ms": ...}.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

# What coders type: code prefixes in every written form, words of
# descriptions and inclusion terms (often half-typed), and a code prefix
# followed by words.
CODE_QUERIES = [
    "I21", "i21.4", "I214", "E11", "e11.6", "E11.65", "e1165", "E1", "I2", "J18",
    "j18.9", "J44", "j44.1", "N39", "n39.0", "I10", "i1", "S72", "s72.0", "S72.001",
    "s72.001a", "T36", "t36.0x1", "T36.0X1A", "Z00", "z00.0", "Z79.4", "z794", "F32", "f32.a",
    "F41.1", "M54", "m54.5", "m54.50", "R07", "r07.9", "R10", "r10.1", "K21", "k21.9",
    "E78", "e78.5", "I48", "i48.9", "I50", "i50.9", "N18", "n18.3", "D64", "d64.9",
    "O09", "o09.a", "QA0", "qa0.0", "C50", "c50.9", "C7A", "U07", "u07.1", "G43",
]  # fmt: skip
WORD_QUERIES = [
    "nstemi", "stemi", "type 2 diabetes hyperglycemia", "type 2 diab", "diabetes", "diab",
    "hypertension", "heart failure", "congestive heart failure", "atrial fibrillation",
    "pneumonia", "covid", "sepsis", "urinary tract infection", "uti", "copd", "asthma",
    "chronic kidney disease", "acute kidney injury", "anemia", "b12", "vitamin d deficiency",
    "hyperlipidemia", "obesity", "depression", "major depressive disorder", "anxiety",
    "bipolar", "alcohol dependence", "opioid use", "tobacco use", "low back pain", "chest pain",
    "abdominal pain", "headache", "migraine", "syncope", "fever", "cough",
    "shortness of breath", "nausea vomiting", "diarrhea", "gerd", "cholecystitis",
    "pancreatitis", "cirrhosis", "fracture", "fracture femur", "hip fracture",
    "fracture of neck of femur", "fract", "ankle sprain", "concussion", "head injury", "burn",
    "fall", "poisoning", "adverse effect", "breast cancer", "malignant neoplasm breast",
    "lung cancer", "prostate cancer", "leukemia", "lymphoma", "metastatic", "pregnancy",
    "supervision of pregnancy", "gestational diabetes", "preeclampsia", "newborn", "stroke",
    "cerebral infarction", "transient ischemic attack", "dementia", "alzheimer", "epilepsy",
    "seizure", "multiple sclerosis", "neuropathy", "diabetic neuropathy",
    "diabetic retinopathy", "cataract", "glaucoma", "otitis media", "sinusitis", "bronchitis",
    "influenza", "cellulitis", "abscess", "osteoarthritis", "osteoarthritis knee",
    "rheumatoid arthritis", "gout", "osteoporosis", "hypothyroidism", "hyperthyroidism",
    "dehydration", "hyponatremia", "hypokalemia", "pulmonary embolism", "deep vein thrombosis",
    "dvt", "angina", "coronary artery disease", "myocardial infarction", "cardiomyopathy",
    "long term insulin", "long term use anticoagulants", "encounter for immunization",
    "screening", "history of", "allergy", "rash", "dermatitis", "psoriasis",
    "obstructive sleep apnea", "insomnia", "autism", "adhd", "intellectual disabilities",
]  # fmt: skip
MIXED_QUERIES = [
    "E11 hyperglycemia", "e11 neuropathy", "I21 nstemi", "i21 inferior", "J18 unspecified",
    "S72 right", "s72.0 closed", "I50 diastolic", "N18 stage", "F32 recurrent",
    "E78 mixed", "M54 lumbar", "K21 esophagitis", "C50 female", "O09 history",
    "T36 accidental", "Z79 insulin", "R10 right lower", "I48 persistent", "G43 intractable",
]  # fmt: skip
QUERIES = CODE_QUERIES + WORD_QUERIES + MIXED_QUERIES


def ensure_code_set_loaded() -> str:
    from django.core.management import call_command

    from coding_app.codes.release import PACKAGED_RELEASE_NAME
    from coding_app.models import Code, CodeRelease

    active = CodeRelease.objects.filter(is_active=True, name=PACKAGED_RELEASE_NAME).first()
    if active is not None and Code.objects.filter(release=active).count() == active.code_count:
        return f"{active.name} already loaded ({active.code_count:,} codes)"
    out = io.StringIO()
    call_command("load_codes", stdout=out)
    return out.getvalue().strip()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coding_app.settings")
    import django

    django.setup()
    from coding_app.codes.search import search_codes

    assert len(QUERIES) == 200, len(QUERIES)
    print(ensure_code_set_loaded())
    for query in QUERIES:  # warm the connection, the plans and the cache
        search_codes(query)
    timings: list[float] = []
    print(f"{'query':<32} {'hits':>4} {'ms':>7}  first result")
    for query in QUERIES:
        started = time.perf_counter()
        hits = search_codes(query)
        elapsed = (time.perf_counter() - started) * 1000
        timings.append(elapsed)
        first = f"{hits[0].dotted} {hits[0].description}"[:60] if hits else "-"
        print(f"{query:<32} {len(hits):>4} {elapsed:>7.2f}  {first}")
    p50, p95 = statistics.median(timings), percentile(timings, 0.95)
    print(f"{len(timings)} queries: p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {max(timings):.2f} ms")
    print(json.dumps({"p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}))


if __name__ == "__main__":
    main()

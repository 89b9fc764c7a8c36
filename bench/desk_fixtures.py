"""The review desk bench's data: coders with sessions, notes with predictions.

Made through the app's own services in the bench's throwaway database: the
code set, the embedding version, ``CODERS`` coders (and one more, who checks
the query counts) and notes from the CodiEsp demo file, each with a stored
prediction of 3 to 12 real billable codes (no model runs).
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported for real once Django is set up
    from coding_app.models import User
    from review.models import ReviewTask

CODERS = 20


@dataclass
class Fixtures:
    sessions: list[str]
    replacements: list[str]
    checker: User
    sized_tasks: dict[int, ReviewTask]


def fixtures_make(note_count: int) -> Fixtures:
    """The queue of `note_count` notes, two more of 3 and 12 suggestions for
    the query counts, and the coders' sessions."""
    from django.core.management import call_command

    from coding_app.codes.models import Code
    from coding_app.codes.store import active_release
    from review.desk.queue import review_tasks_materialize
    from worker.registry.versions import zero_shot_version_ensure

    if active_release() is None:
        call_command("load_codes", verbosity=0)
    release = active_release()
    assert release is not None
    version = zero_shot_version_ensure()
    billable = list(
        Code.objects.filter(release=release, billable=True)
        .order_by("code")
        .values_list("code", flat=True)
    )
    rng = random.Random(20)
    coders = _coders_make(CODERS + 1)
    sizes = [rng.randint(3, 12) for _ in range(note_count)]
    _notes_make(sizes, billable, rng, "desk")
    sized_notes = _notes_make([3, 12], billable, rng, "sized")
    review_tasks_materialize(version)
    sized_tasks = {
        size: _task_of(note_id) for size, note_id in zip((3, 12), sized_notes, strict=True)
    }
    return Fixtures(
        sessions=[_session_key(coder) for coder in coders[:CODERS]],
        replacements=rng.sample(billable, 300),
        checker=coders[CODERS],
        sized_tasks=sized_tasks,
    )


def _coders_make(count: int) -> list[User]:
    from django.test.utils import override_settings

    from coding_app.accounts.roles import Role
    from coding_app.accounts.services import user_create

    # Throwaway users in a throwaway database: a fast hasher saves seconds
    # of PBKDF2 that tell nothing about the desk.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        return [
            user_create(
                email=f"coder-{i}@bench.example.org",
                password=uuid.uuid4().hex,
                roles=[Role.CODER],
                check_password=False,
            )
            for i in range(count)
        ]


def _session_key(user: User) -> str:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    key: str = session.session_key
    return key


def _notes_make(sizes: list[int], codes: list[str], rng: random.Random, prefix: str) -> list[int]:
    """One note per size, predicted with that many codes; returns the note ids."""
    import hashlib

    from worker.backends.base import NotePrediction
    from worker.models import Note, UploadBatch
    from worker.predictions.services import predictions_store
    from worker.registry.versions import zero_shot_version_ensure
    from worker.uploads.demo_notes import DEMO_FILE

    texts = [json.loads(line)["text"] for line in DEMO_FILE.open()]
    batch = UploadBatch.objects.create(
        source="bench-desk", file_name=f"{prefix}.jsonl", status=UploadBatch.Status.DONE
    )
    notes = Note.objects.bulk_create(
        Note(
            source="bench-desk",
            external_id=f"{prefix}-{i}",
            text=text,
            batch=batch,
            text_sha256=hashlib.sha256(text.encode()).hexdigest(),
        )
        for i, text in enumerate(rng.choice(texts) for _ in sizes)
    )
    predictions = [
        NotePrediction(
            note_id=note.pk,
            codes=_suggested(size, note.text, codes, rng),
            reasoning="The note documents the suggested conditions.",
            raw_output="{}",
            prompt_version="bench-v1",
        )
        for note, size in zip(notes, sizes, strict=True)
    ]
    predictions_store(predictions, version=zero_shot_version_ensure(), job=None)
    return [note.pk for note in notes]


def _suggested(size: int, text: str, billable: list[str], rng: random.Random) -> tuple[Any, ...]:
    from worker.backends.base import SuggestedCode

    # Half the codes from one neighbourhood of the sorted code list, so that
    # the page shows related-code hints as it does for real predictions.
    start = rng.randrange(len(billable) - 60)
    near = rng.sample(billable[start : start + 60], size // 2)
    codes = list(dict.fromkeys(near + rng.sample(billable, size)))[:size]
    spans = []
    for _ in codes:
        begin = rng.randrange(max(1, len(text) - 80))
        spans.append((begin, min(len(text), begin + rng.randint(20, 80))))
    return tuple(
        SuggestedCode(
            code=code,
            score=round(0.95 - rank * 0.05, 2),
            evidence=(span,),
            rationale=f"Suggested because of the sentence at {span[0]}.",
        )
        for rank, (code, span) in enumerate(zip(codes, spans, strict=True))
    )


def _task_of(note_id: int) -> ReviewTask:
    from review.models import ReviewTask

    return ReviewTask.objects.get(note_id=note_id, slot=1)

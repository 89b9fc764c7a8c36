"""Shared helpers for the code-system tests (this module holds no tests).

Pure tests use the hierarchy read straight from the packaged release; tests
that need the ``Code`` table call ``ensure_code_set_loaded`` from a
session-scoped fixture, which loads the release into the test database once
(outside any test transaction, so every later test sees it) and again only
if a transactional test flushed the table in between.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

from django.core.management import call_command

from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.release import PACKAGED_RELEASE_NAME, read_release
from coding_app.models import Code, CodeRelease


@lru_cache(maxsize=1)
def packaged_hierarchy() -> Hierarchy:
    release = read_release()
    return Hierarchy(release.entries, release.name)


def ensure_code_set_loaded(django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        active = CodeRelease.objects.filter(is_active=True, name=PACKAGED_RELEASE_NAME).first()
        if active is None or Code.objects.filter(release=active).count() != active.code_count:
            call_command("load_codes", stdout=io.StringIO())

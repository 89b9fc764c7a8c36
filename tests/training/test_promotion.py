"""Promotion and rollback: one active version per backend, every change audited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from coding_app.accounts.roles import Role
from coding_app.models import AuditEvent, User
from training.events import TrainingAuditKind
from training.runs.evaluation import Comparison, PromotionRule, promotion_verdict
from training.runs.services import version_promote, version_rollback
from worker.models import ModelVersion
from worker.registry.promotion import PromotionRefused

pytestmark = pytest.mark.usefixtures("model_dir")


LoginAs = Callable[[Role], User]


def candidate(name: str, parent: ModelVersion) -> ModelVersion:
    return ModelVersion.objects.create(
        name=name, backend="embedding", base_model=parent.base_model, parent=parent
    )


def active_names() -> list[str]:
    return list(
        ModelVersion.objects.filter(backend="embedding", status="active").values_list(
            "name", flat=True
        )
    )


@pytest.mark.django_db
def test_promoting_makes_exactly_one_active_and_retires_the_old_one(
    zero_shot: ModelVersion, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN)
    first = candidate("first", zero_shot)
    version_promote(version=first, by=admin)
    assert active_names() == ["first"]
    zero_shot.refresh_from_db()
    first.refresh_from_db()
    assert zero_shot.status == ModelVersion.Status.RETIRED
    assert first.promoted_by == admin
    assert first.promoted_at is not None
    event = AuditEvent.objects.get(kind=TrainingAuditKind.MODEL_PROMOTED)
    assert event.actor == admin
    assert event.payload["version"] == "first"
    assert event.payload["replaced"] == zero_shot.name


@pytest.mark.django_db
def test_rollback_gives_the_active_role_back_to_the_version_before(
    zero_shot: ModelVersion, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN)
    first, second = candidate("first", zero_shot), candidate("second", zero_shot)
    version_promote(version=first, by=admin)
    version_promote(version=second, by=admin)
    assert version_rollback(backend="embedding", by=admin).name == "first"
    assert active_names() == ["first"]
    # Back once more: the zero-shot start, made active without a promotion.
    assert version_rollback(backend="embedding", by=admin).name == zero_shot.name
    assert active_names() == [zero_shot.name]
    with pytest.raises(PromotionRefused, match="no earlier active version"):
        version_rollback(backend="embedding", by=admin)
    kinds = list(AuditEvent.objects.values_list("kind", flat=True))
    assert kinds.count(TrainingAuditKind.MODEL_ROLLED_BACK) == 2


@pytest.mark.django_db
def test_promoting_the_active_version_is_refused(zero_shot: ModelVersion) -> None:
    with pytest.raises(PromotionRefused, match="already the active"):
        version_promote(version=zero_shot, by=None)


@pytest.mark.django_db
def test_the_database_refuses_two_active_versions(zero_shot: ModelVersion) -> None:
    other = candidate("other", zero_shot)
    other.status = ModelVersion.Status.ACTIVE
    with pytest.raises(IntegrityError), transaction.atomic():
        other.save()


def comparison(gain: float, chapter_change: float, support: float = 10) -> Comparison:
    level = {"f1_micro": 0.3, "f1_macro": 0.1, "precision_micro": 0.3, "recall_micro": 0.3}
    better = {**level, "f1_micro": 0.3 + gain}
    scores = {
        "candidate": {"chapter": level, "category": better, "code": level},
        "active": {"chapter": level, "category": level, "code": level},
    }
    chapters = {
        "9": {
            "candidate": 0.5 + chapter_change,
            "active": 0.5,
            "change": chapter_change,
            "support": support,
        }
    }
    return Comparison(notes=20, scores=scores, chapters=chapters, disagreements=[])


@pytest.mark.parametrize(
    ("gain", "chapter_change", "support", "promoted", "why"),
    [
        (0.05, 0.0, 10, True, "promoted"),
        (0.005, 0.0, 10, False, "below the margin"),
        (0.05, -0.2, 10, False, "Chapter 9 falls by 0.200"),
        # A chapter with too few gold codes to judge does not block.
        (0.05, -0.2, 2, True, "promoted"),
    ],
)
def test_the_promotion_rule(
    gain: float, chapter_change: float, support: float, promoted: bool, why: str
) -> None:
    rule = PromotionRule(margin=0.01, max_chapter_drop=0.05)
    decided, figures = promotion_verdict(comparison(gain, chapter_change, support), rule)
    assert decided is promoted
    assert why in figures["why"]
    assert figures["margin"] == 0.01
    assert "0.010" in figures["text"]


# --- The pages -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.CODER, Role.AUDITOR])
def test_only_admins_see_runs_or_start_promote_and_roll_back(
    client: Client, login_as: LoginAs, zero_shot: ModelVersion, role: Role
) -> None:
    login_as(role)
    other = candidate("other", zero_shot)
    pages = [reverse("training:runs:list"), reverse("training:runs:versions")]
    for url in pages:
        assert client.get(url).status_code == 403
    posts = [
        (reverse("training:runs:list"), {"method": "head", "base_version": zero_shot.pk}),
        (reverse("training:runs:promote", args=[other.pk]), {}),
        (reverse("training:runs:rollback", args=["embedding"]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403
    assert active_names() == [zero_shot.name]
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_an_admin_promotes_and_rolls_back_from_the_versions_page(
    client: Client, login_as: LoginAs, zero_shot: ModelVersion
) -> None:
    admin = login_as(Role.ADMIN)
    other = candidate("other", zero_shot)
    page = client.get(reverse("training:runs:versions")).content.decode()
    assert "other" in page
    assert reverse("training:runs:promote", args=[other.pk]) in page
    response = client.post(reverse("training:runs:promote", args=[other.pk]), follow=True)
    assert "other is now the active embedding model" in response.content.decode()
    assert active_names() == ["other"]
    client.post(reverse("training:runs:rollback", args=["embedding"]))
    assert active_names() == [zero_shot.name]
    actors = set(AuditEvent.objects.values_list("actor", flat=True))
    assert actors == {admin.pk}


@pytest.mark.django_db
def test_the_run_form_shows_the_defaults_and_refuses_a_mismatched_base(
    client: Client, login_as: LoginAs, zero_shot: ModelVersion
) -> None:

    login_as(Role.ADMIN)
    page = client.get(reverse("training:runs:list")).content.decode()
    for default in ('value="200"', 'value="0.05"', 'value="16"', 'value="32"', 'value="2048"'):
        assert default in page
    assert "Promote automatically when category-level micro F1" in page
    response = client.post(
        reverse("training:runs:list"),
        {
            "method": "sft",
            "base_version": zero_shot.pk,
            "labels": "reviews",
            "learning_rate": 0.0002,
            "lora_r": 8,
            "lora_alpha": 16,
            "epochs": 1,
            "batch_size": 2,
            "max_length": 512,
            "max_completion_length": 64,
            "max_steps": 2,
            "steps": 10,
            "folds": 5,
            "min_support": 2,
            "neighbours": 20,
        },
    )
    assert response.status_code == 400
    assert "A sft run needs an LLM" in response.content.decode()

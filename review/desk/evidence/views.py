"""The evidence endpoints of the review page: mark a selection, remove a span.

Both redraw the work area as every decision does (``review.desk.views``),
with the refusal when there is one.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_POST

from coding_app.accounts.roles import Role, role_required
from coding_app.accounts.services import signed_in_user
from coding_app.htmx import HtmxHttpRequest
from review.desk.evidence import services
from review.desk.evidence.forms import EvidenceForm
from review.desk.forms import ReviewPageForm
from review.desk.views import _apply


@require_POST
@role_required(Role.CODER)
def evidence_mark(request: HtmxHttpRequest, review_id: int) -> HttpResponse:
    form = EvidenceForm(request.POST)
    return _apply(
        request,
        review_id,
        form,
        lambda version: services.evidence_mark(
            review_id=review_id,
            coder=signed_in_user(request),
            target=form.target(),
            span=form.span(),
            expected_version=version,
        ),
    )


@require_POST
@role_required(Role.CODER)
def evidence_remove(request: HtmxHttpRequest, review_id: int, span_id: int) -> HttpResponse:
    return _apply(
        request,
        review_id,
        ReviewPageForm(request.POST),
        lambda version: services.evidence_remove(
            review_id=review_id,
            coder=signed_in_user(request),
            span_id=span_id,
            expected_version=version,
        ),
    )

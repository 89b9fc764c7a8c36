"""The desk's pages and htmx endpoints; the rules live in queue and decisions."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from coding_app.accounts.roles import Role, role_required, users_with_role
from coding_app.accounts.services import signed_in_user
from coding_app.audit.services import audit
from coding_app.codes.search import search_codes
from coding_app.codes.store import current_hierarchy
from coding_app.htmx import HtmxHttpRequest
from coding_app.models import User
from review.desk import decisions, queue, selectors
from review.desk.forms import (
    AddCodeForm,
    DecisionForm,
    FocusForm,
    HeartbeatForm,
    NextNoteForm,
    ReassignForm,
    ReviewPageForm,
    SubmitForm,
)
from review.events import ReviewAuditKind, event_ids
from review.models import Review, ReviewTask
from worker.backends.index_status import code_index_status


@require_GET
@role_required(Role.CODER)
def desk_home(request: HttpRequest) -> HttpResponse:
    coder = signed_in_user(request)
    context = {
        "counts": selectors.coder_counts(coder),
        "reviews": selectors.coder_reviews(coder),
        "queue": queue.queue_counts(),
        "waiting": queue.notes_waiting_for(coder),
        "code_index": code_index_status(),
    }
    return render(request, "review/desk_home.html", context)


@require_POST
@role_required(Role.CODER)
def next_note(request: HttpRequest) -> HttpResponse:
    form = NextNoteForm(request.POST)
    least_confident = form.is_valid() and form.cleaned_data["least_confident"]
    review = queue.lease_next(signed_in_user(request), least_confident_first=least_confident)
    if review is None:
        messages.info(request, "No note is waiting for review. Well done.")
        return redirect("review:desk_home")
    return redirect("review:review", review_id=review.pk)


def _own_review(request: HttpRequest, review_id: int) -> Review:
    review = selectors.review_for_coder(review_id, signed_in_user(request))
    if review is None:
        # Another coder's review looks exactly like a missing one.
        raise Http404("No such review of yours.")
    return review


def _focus(request: HttpRequest, name: str = "suggestion") -> int | None:
    """The suggestion (or, by ``name``, the added code) whose evidence the
    page shows, from its query."""
    form = FocusForm(request.GET)
    return form.cleaned_data[name] if form.is_valid() else None


@require_GET
@role_required(Role.CODER)
def review(request: HtmxHttpRequest, review_id: int) -> HttpResponse:
    current = _own_review(request, review_id)
    page = selectors.review_page(current, _focus(request), _focus(request, "added"))
    if request.htmx:
        return render(request, "review/review.html#note-text", {"page": page})
    audit(ReviewAuditKind.NOTE_VIEWED, actor=signed_in_user(request), **event_ids(review=current))
    return render(request, "review/review.html", {"page": page})


def _work(
    request: HtmxHttpRequest, review_id: int, form: ReviewPageForm, error: str = ""
) -> HttpResponse:
    """The redrawn work area: suggestions, added codes, the diff and submit.

    ``form`` is the write's form, already validated; its row in focus stays
    in focus.
    """
    selected = _focus(request) or form.cleaned_data.get("selected")
    page = selectors.review_page(_own_review(request, review_id), selected)
    context = {"page": page, "error": error}
    if request.htmx:
        # htmx swaps no 4xx answer by default: a refusal is drawn with a 200.
        return render(request, "review/review.html#work", context)
    if error:
        messages.error(request, error)
    return redirect(reverse("review:review", args=[review_id]))


def _apply(
    request: HtmxHttpRequest,
    review_id: int,
    form: ReviewPageForm,
    change: Callable[[int], object],
) -> HttpResponse:
    """Make one change from a valid form (``change`` gets the page's version)
    and redraw the work area, with the refusal if there was one."""
    if not form.is_valid():
        return _work(request, review_id, form, form.refusal())
    try:
        change(form.cleaned_data["version"])
    except decisions.DecisionRefused as refused:
        return _work(request, review_id, form, str(refused))
    return _work(request, review_id, form)


@require_POST
@role_required(Role.CODER)
def decide(request: HtmxHttpRequest, review_id: int, suggestion_id: int) -> HttpResponse:
    form = DecisionForm(request.POST)
    return _apply(
        request,
        review_id,
        form,
        lambda version: decisions.decide(
            review_id=review_id,
            coder=signed_in_user(request),
            suggestion_id=suggestion_id,
            choice=form.choice(),
            expected_version=version,
        ),
    )


@require_POST
@role_required(Role.CODER)
def add_code(request: HtmxHttpRequest, review_id: int) -> HttpResponse:
    form = AddCodeForm(request.POST)
    return _apply(
        request,
        review_id,
        form,
        lambda version: decisions.code_add(
            review_id=review_id,
            coder=signed_in_user(request),
            code=form.cleaned_data["code"],
            expected_version=version,
        ),
    )


@require_POST
@role_required(Role.CODER)
def remove_code(request: HtmxHttpRequest, review_id: int, decision_id: int) -> HttpResponse:
    return _apply(
        request,
        review_id,
        ReviewPageForm(request.POST),
        lambda version: decisions.added_code_remove(
            review_id=review_id,
            coder=signed_in_user(request),
            decision_id=decision_id,
            expected_version=version,
        ),
    )


@require_POST
@role_required(Role.CODER)
def submit(request: HtmxHttpRequest, review_id: int) -> HttpResponse:
    """Submit, then open the next note (the page's default) or the desk."""
    form = SubmitForm(request.POST)
    if not form.is_valid():
        return _work(request, review_id, form, form.refusal())
    coder = signed_in_user(request)
    # The seconds since the page's last heartbeat, counted before the review
    # closes (``queue.time_on_task_add``).
    queue.time_on_task_add(
        review_id=review_id, coder=coder, active_seconds=HeartbeatForm(request.POST).active()
    )
    try:
        done = decisions.review_submit(review_id=review_id, coder=coder, **form.submission())
    except decisions.DecisionRefused as refused:
        return _work(request, review_id, form, str(refused))
    messages.success(request, f"Review of note {done.note.external_id} submitted.")
    url = _next_note_url(request, coder) if form.next_note() else reverse("review:desk_home")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _next_note_url(request: HttpRequest, coder: User) -> str:
    """The next note's page, leased now; the desk when none is waiting."""
    following = queue.lease_next(coder)
    if following is None:
        messages.info(request, "No note is waiting for review. Well done.")
        return reverse("review:desk_home")
    return reverse("review:review", args=[following.pk])


@require_POST
@role_required(Role.CODER)
def reopen(request: HttpRequest, review_id: int) -> HttpResponse:
    try:
        decisions.review_reopen(review_id=review_id, coder=signed_in_user(request))
    except decisions.DecisionRefused as refused:
        messages.error(request, str(refused))
    return redirect("review:review", review_id=review_id)


@require_POST
@role_required(Role.CODER)
def heartbeat(request: HttpRequest, review_id: int) -> HttpResponse:
    current = _own_review(request, review_id)
    active = HeartbeatForm(request.POST).active()
    if queue.lease_renew(current, signed_in_user(request), active):
        return HttpResponse(status=204)
    if current.status == Review.Status.SUBMITTED or current.submitted_at is not None:
        return HttpResponse(status=204)
    return HttpResponse(
        "Your lease on this note has expired; your draft is kept, but the note may go to "
        "another coder. Take the next note to go on.",
        status=409,
        content_type="text/plain; charset=utf-8",
    )


@require_GET
@role_required(Role.CODER)
def code_options(request: HttpRequest, review_id: int) -> HttpResponse:
    """Autocomplete for replace and add: options with their relation to the suggestion."""
    current = _own_review(request, review_id)
    # The replace and add fields send their own value under their own name.
    query = request.GET.get("replacement") or request.GET.get("code") or request.GET.get("q", "")
    hits = search_codes(query, 12)
    suggested = request.GET.get("suggested", "")
    hierarchy = current_hierarchy()
    options = []
    for hit in hits:
        relation = ""
        if suggested and hierarchy.entry(suggested) is not None:
            relation = hierarchy.relation(suggested, hit.code).label
        options.append({"hit": hit, "relation": relation})
    return render(request, "review/code_options.html", {"options": options, "review": current})


@require_GET
@role_required(Role.ADMIN)
def queue_admin(request: HttpRequest) -> HttpResponse:
    context = {
        "queue": queue.queue_counts(),
        "leases": selectors.leased_tasks(),
        "coders": users_with_role(Role.CODER),
    }
    return render(request, "review/queue_admin.html", context)


@require_POST
@role_required(Role.ADMIN)
def queue_release(request: HttpRequest, task_id: int) -> HttpResponse:
    task = ReviewTask.objects.filter(pk=task_id).first()
    if task is None:
        raise Http404("No such task.")
    try:
        queue.lease_release(task, signed_in_user(request))
        messages.success(request, f"Task {task_id} is back in the queue.")
    except queue.QueueError as error:
        messages.error(request, str(error))
    return redirect("review:queue_admin")


@require_POST
@role_required(Role.ADMIN)
def queue_reassign(request: HttpRequest, task_id: int) -> HttpResponse:
    task = ReviewTask.objects.filter(pk=task_id).first()
    form = ReassignForm(request.POST)
    if task is None or not form.is_valid():
        messages.error(request, "Choose a task and a coder to give it to.")
        return redirect("review:queue_admin")
    coder = form.cleaned_data["coder"]
    try:
        queue.task_reassign(task, coder, signed_in_user(request))
        messages.success(request, f"Task {task_id} now belongs to {coder.email}.")
    except queue.QueueError as error:
        messages.error(request, str(error))
    return redirect("review:queue_admin")

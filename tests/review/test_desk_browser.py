"""The review desk in a real browser, driven by the keyboard alone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import Browser, Locator, Page, Request, expect
from playwright.sync_api import Error as PlaywrightError
from pytest_django import DjangoDbBlocker, Settings

from coding_app.accounts.roles import Role
from coding_app.accounts.services import user_create
from coding_app.models import AuditEvent, Code, CodeRelease, User
from review.events import ReviewAuditKind
from review.models import Decision, Review, ReviewTask
from tests.coding_app.test_codes_support import ensure_code_set_loaded
from tests.conftest import PASSWORD
from tests.review.conftest import predicted_notes
from tests.test_browser_base import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Screenshots for a person to look at; the folder is ignored by git.
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
NOTE_HEADING = re.compile(r"^Note ")
CODE_TABLES = (CodeRelease._meta.db_table, Code._meta.db_table)


@pytest.fixture(scope="module")
def code_tables(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> dict[str, bytes]:
    """The loaded code set's rows, copied out of PostgreSQL once."""
    ensure_code_set_loaded(django_db_blocker)
    copied = {}
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        for table in CODE_TABLES:
            with cursor.copy(f"COPY {table} TO STDOUT") as copy:
                copied[table] = b"".join(bytes(chunk) for chunk in copy)
    return copied


@pytest.fixture(autouse=True)
def code_set(code_tables: dict[str, bytes], django_db_blocker: DjangoDbBlocker) -> None:
    """Put the code set back after the previous test's flush.

    Overrides the package's fixture: reloading the release parses it again
    (seconds per test), and copied rows keep the release's id, so the
    server's in-memory hierarchy stays valid too.
    """
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        if Code.objects.exists():
            return
        for table, rows in code_tables.items():
            with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                copy.write(rows)


def requests_in_flight(page: Page) -> set[Request]:
    """Track the page's requests, and answer its lease heartbeat in the browser.

    The flush that ends a transactional test truncates every table; a request
    the live server is still running then can deadlock with it. So the pages
    leave the desk (which sends a last heartbeat) before they close, and wait
    for their requests; that heartbeat never leaves the browser.
    """
    page.route("**/heartbeat/", lambda route: route.fulfill(status=204))
    pending: set[Request] = set()
    page.on("request", lambda request: pending.add(request))
    page.on("requestfinished", lambda request: pending.discard(request))
    page.on("requestfailed", lambda request: pending.discard(request))
    return pending


# The heartbeat the page sends as it goes is a keepalive fetch: the browser
# may send it after the page is gone, past the route that answers the
# others, and it then races the flush. So the page answers it itself.
NO_LAST_BEAT = """() => {
    const send = window.fetch;
    window.fetch = (url, options) => String(url).includes("/heartbeat/")
        ? Promise.resolve(new Response(null, { status: 204 }))
        : send(url, options);
}"""


def leave(page: Page, pending: set[Request]) -> None:
    """Go to a blank page and wait for the requests still running."""
    with suppress(PlaywrightError):  # a page mid-navigation has no window yet
        page.evaluate(NO_LAST_BEAT)
    page.goto("about:blank")
    for _ in range(100):
        if not pending:
            return
        page.wait_for_timeout(50)  # lets Playwright deliver the events


@pytest.fixture
def page(page: Page) -> Iterator[Page]:
    """The plugin's page, kept from racing the flush that ends each test."""
    pending = requests_in_flight(page)
    yield page
    leave(page, pending)


def coder(name: str) -> User:
    return user_create(email=f"{name}@example.org", password=PASSWORD, roles=[Role.CODER])


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def suggestion(page: Page, dotted: str) -> Locator:
    return page.locator("#work li.suggestion").filter(
        has=page.locator("a.code", has_text=re.compile(rf"^{re.escape(dotted)}$"))
    )


def expect_decided(row: Locator, action: str) -> None:
    expect(row).to_have_class(re.compile(rf"\bstate-{action}\b"))


def expect_current(row: Locator) -> None:
    """Wait for the keys' script to put the focus on ``row``.

    The redrawn rows come without the class; the script sets it once htmx
    has settled the swap and wired up its forms, so keys pressed after this
    reach htmx rather than the forms' plain fallback.
    """
    expect(row).to_have_class(re.compile(r"\bis-current\b"))
    expect(row).to_be_focused()


def open_desk(page: Page, base_url: str, user: User) -> None:
    sign_in(page, base_url, user)
    expect(page.get_by_role("heading", name="Review desk")).to_be_visible()
    # The N key's script runs at the end of the page, after the heading shows.
    page.wait_for_load_state("domcontentloaded")


def take_next_note(page: Page, base_url: str, user: User) -> None:
    """Sign in, then press N on the desk home to lease the next note."""
    open_desk(page, base_url, user)
    page.keyboard.press("N")
    expect(page.get_by_role("heading", name=NOTE_HEADING)).to_be_visible()
    expect_current(page.locator("#work li.suggestion").first)


def test_a_coder_reviews_a_note_by_keyboard_and_the_database_keeps_it(
    page: Page, live_server: object
) -> None:
    user = coder("keys")
    (note,) = predicted_notes(1, codes=("E1165", "I10", "E119"))
    take_next_note(page, str(live_server), user)
    hyperglycemia, hypertension, uncomplicated = (
        suggestion(page, "E11.65"),
        suggestion(page, "I10"),
        suggestion(page, "E11.9"),
    )
    expect_current(hyperglycemia)
    screenshot(page, "review-before-decisions")

    page.keyboard.press("j")
    expect_current(hypertension)
    page.keyboard.press("a")
    expect_decided(hypertension, "accept")
    # A decision moves on to the next suggestion still open, not to the top.
    expect_current(uncomplicated)

    page.keyboard.press("r")
    expect(uncomplicated.locator("select.reason")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect_decided(uncomplicated, "reject")
    expect(uncomplicated.locator(".decision-state")).to_have_text("Reject: not documented")
    # Past the last one, it wraps round to the first still open.
    expect_current(hyperglycemia)

    page.keyboard.press("e")
    replacement = hyperglycemia.locator("input.replacement")
    expect(replacement).to_be_focused()
    page.keyboard.type("E11.64")
    options = page.locator(f"#{replacement.get_attribute('list')} option")
    expect(options.filter(has_text="E11.649")).to_have_attribute("value", "E11.649")
    page.keyboard.type("9")
    page.keyboard.press("Enter")
    expect_decided(hyperglycemia, "replace")
    expect(hyperglycemia.locator(".decision-state")).to_contain_text("→ E11.649")
    expect_current(hyperglycemia)

    page.keyboard.press("c")
    expect(page.locator("#add-code")).to_be_focused()
    page.keyboard.type("I25.10")
    page.keyboard.press("Enter")
    expect(page.locator(".added li").first).to_contain_text("I25.10 Atherosclerotic heart")
    expect_current(hyperglycemia)

    diff = page.locator(".diff-table tbody tr")
    expect(diff).to_have_text(
        [
            re.compile(r"^E11\.65 .*E11\.649 .*Same category$"),
            re.compile(r"^I10 .*I10 .*Exact$"),
            re.compile(r"^E11\.9 .*Only the model$"),
            re.compile(r"^I25\.10 .*Only the coder$"),
        ]
    )
    expect(page.locator("#submit-review")).not_to_have_attribute("aria-disabled", "true")
    screenshot(page, "review-after-decisions")

    page.keyboard.press("s")
    expect(page.get_by_text(f"Review of note {note.external_id} submitted.")).to_be_visible()
    expect(page.get_by_role("heading", name="Review desk")).to_be_visible()

    review = Review.objects.get(coder=user)
    assert (review.note_id, review.status) == (note.pk, Review.Status.SUBMITTED)
    assert review.submitted_at is not None
    assert set(
        Decision.objects.filter(review=review).values_list(
            "action", "code", "reason", "replacement", "relation"
        )
    ) == {
        ("accept", "I10", "", "", ""),
        ("reject", "E119", "not_documented", "", ""),
        ("replace", "E1165", "", "E11649", "same_category"),
        ("add", "I2510", "", "", ""),
    }
    assert list(AuditEvent.objects.filter(actor=user).values_list("kind", flat=True)) == [
        "lease_taken",
        "note_viewed",
        *["decision_made"] * 4,
        "review_submitted",
    ]
    # The note may have been picked for blind double coding (a share of
    # notes chosen by a hash of its id); the coder's own task is the one done.
    task = ReviewTask.objects.get(pk=review.task_id)
    assert (task.state, task.leased_by_id) == (ReviewTask.State.DONE, None)


def test_the_help_overlay_opens_with_a_question_mark_and_closes_with_escape(
    page: Page, live_server: object
) -> None:
    predicted_notes(1)
    take_next_note(page, str(live_server), coder("help"))
    help_dialog = page.get_by_role("dialog", name="Keyboard keys")
    expect(help_dialog).to_be_hidden()

    decide_posts: list[str] = []
    page.on("request", lambda r: decide_posts.append(r.url) if "/decide/" in r.url else None)

    page.keyboard.press("?")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("accept the suggestion")
    page.keyboard.press("a")  # the page behind the help ignores the keys
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    expect_current(suggestion(page, "E11.65"))

    page.keyboard.press("c")
    expect(page.locator("#add-code")).to_be_focused()
    page.keyboard.press("Escape")  # Escape also leaves a field
    expect_current(suggestion(page, "E11.65"))

    page.keyboard.press("a")  # and the keys work again
    expect_decided(suggestion(page, "E11.65"), "accept")
    expect_current(suggestion(page, "I10"))
    assert len(decide_posts) == 1


def test_two_coders_pressing_next_note_together_get_different_notes(
    browser: Browser, live_server: object, settings: Settings
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0  # the live server shares this process
    predicted_notes(2)
    coders = [coder("first"), coder("second")]
    contexts = [browser.new_context() for _ in coders]
    try:
        pages = [context.new_page() for context in contexts]
        pending = [requests_in_flight(page) for page in pages]
        for page, user in zip(pages, coders, strict=True):
            open_desk(page, str(live_server), user)
        for page in pages:  # no waiting between the two: both requests race
            page.keyboard.press("N")
        headings = [page.get_by_role("heading", name=NOTE_HEADING) for page in pages]
        for heading in headings:
            expect(heading).to_be_visible()
        shown = {heading.inner_text() for heading in headings}
        for page, requests in zip(pages, pending, strict=True):
            leave(page, requests)
    finally:
        for context in contexts:
            context.close()

    assert shown == {"Note n-0", "Note n-1"}
    leased = ReviewTask.objects.filter(state=ReviewTask.State.LEASED)
    assert sorted(leased.values_list("leased_by", flat=True)) == sorted(u.pk for u in coders)
    assert leased.values("note").distinct().count() == 2
    assert ReviewTask.objects.count() == 2
    assert Review.objects.values("note").distinct().count() == 2


def test_submit_is_refused_while_a_suggestion_is_open(page: Page, live_server: object) -> None:
    user = coder("early")
    predicted_notes(1, codes=("E1165", "I10", "E119"))
    take_next_note(page, str(live_server), user)
    refusal = page.locator("#work-error")

    page.keyboard.press("s")
    expect(refusal).to_have_text(
        "Decide on every suggestion before submitting; still open: E11.65, I10, E11.9."
    )
    expect_current(suggestion(page, "E11.65"))
    page.keyboard.press("a")
    expect_decided(suggestion(page, "E11.65"), "accept")
    expect_current(suggestion(page, "I10"))
    page.keyboard.press("s")
    expect(refusal).to_have_text(
        "Decide on every suggestion before submitting; still open: I10, E11.9."
    )
    screenshot(page, "review-submit-refused")

    review = Review.objects.get(coder=user)
    assert (review.status, review.submitted_at) == (Review.Status.DRAFT, None)
    assert not AuditEvent.objects.filter(kind=ReviewAuditKind.REVIEW_SUBMITTED).exists()
    assert ReviewTask.objects.get(pk=review.task_id).state == ReviewTask.State.LEASED

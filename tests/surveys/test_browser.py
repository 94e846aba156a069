"""Real Chromium: a guest leaves a review from the e-mail link caught at the SMTP server and gets the
thank-you mail; a tenant answers the survey sent when their work order was completed, and staff read the
results in the back office. Screenshots at 1280 and 390 px of each page."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal import db
from portal.bookings.models import Review
from tests.conftest import browser_staff_sign_in, screenshots
from tests.surveys.test_review import departed_guest
from tests.surveys.world import send_due, survey_world

pytestmark = pytest.mark.browser


def link_path(mail) -> str:
    """The path of the mail's one-time link (the live server answers on the same base URL)."""
    return urlsplit(re.search(r"http\S+/l/\S+", mail.get_body(("plain",)).get_content()).group(0)).path


def test_a_guest_leaves_a_review_from_the_mail_and_is_thanked(app, page, run_jobs, smtp_server):
    departed_guest(app)
    send_due(app, run_jobs)
    (request,) = [m for m in smtp_server.messages if m["Subject"].startswith("How was your stay")]
    page.goto(link_path(request))
    expect(page.get_by_role("heading", name="How was your stay at 2B?")).to_be_visible()
    screenshots(page, "review-link")
    page.locator("label.rating-option", has_text="Excellent").click()
    page.get_by_label("A few words about your stay").fill("Spotless flat, lovely terrace.")
    screenshots(page, "review-link-filled")
    page.get_by_role("button", name="Send my review").click()
    expect(page.get_by_text("Thank you for your review")).to_be_visible()
    screenshots(page, "review-done")
    with app.app_context():
        assert [(r.rating, r.comment) for r in db.session.scalars(
            select(Review).execution_options(all_agencies=True))] == [(5, "Spotless flat, lovely terrace.")]
    send_due(app, run_jobs)
    (thanks,) = [m for m in smtp_server.messages if m["Subject"].startswith("Thank you for your review")]
    assert "gina@example.com" in thanks["To"] and "(5/5)" in thanks.get_body(("plain",)).get_content()
    page.goto(link_path(request))  # the used link: what was received, nothing to press
    expect(page.get_by_text("Your review of this stay (5/5) was received")).to_be_visible()
    expect(page.get_by_role("button", name="Send my review")).to_have_count(0)
    screenshots(page, "review-used")


def test_a_tenant_answers_the_survey_and_staff_read_the_results(app, page, run_jobs, smtp_server):
    survey_world(app)
    send_due(app, run_jobs)
    (mail,) = [m for m in smtp_server.messages if m["Subject"].startswith("How did the work")]
    page.goto(link_path(mail))
    expect(page.get_by_role("heading", name="After the work")).to_be_visible()
    screenshots(page, "survey-link")
    fieldsets = page.locator("fieldset.question")
    fieldsets.nth(0).locator("label.rating-option", has_text="Good").click()
    fieldsets.nth(1).get_by_label("A little late").check()
    fieldsets.nth(2).locator("textarea").fill("Please call before coming.")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("Thank you for answering “After the work”")).to_be_visible()
    screenshots(page, "survey-done")

    browser_staff_sign_in(page, "manager@alpha.example")
    page.goto("/manage/surveys")
    expect(page.get_by_role("link", name="After the work")).to_be_visible()
    screenshots(page, "surveys-list")
    page.get_by_role("link", name="After the work").click()
    expect(page.get_by_text("questions are fixed")).to_be_visible()
    screenshots(page, "survey-detail")
    page.get_by_role("link", name=re.compile(r"^Results")).click()
    expect(page.locator(".average")).to_have_text("4.00")
    expect(page.get_by_text("Please call before coming.")).to_be_visible()
    screenshots(page, "survey-results")

    # A new survey built through the pages: a choice with one option is refused beside the field.
    page.goto("/manage/surveys/new")
    page.get_by_label("Title").fill("Your move-in")
    page.get_by_label("Introduction").fill("Tell us how your first week went.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Survey created")).to_be_visible()
    page.get_by_label("Question", exact=True).fill("How clean was the flat?")
    page.get_by_role("button", name="Add the question").click()
    page.get_by_label("Question", exact=True).fill("Which room needs attention?")
    page.get_by_label("Type").select_option("choice")
    page.get_by_label("Options").fill("Kitchen")
    page.get_by_role("button", name="Add the question").click()
    expect(page.locator(".field.has-error")).to_contain_text("Give at least two options")
    page.get_by_label("Options").fill("Kitchen\nBathroom\nBedroom")
    page.get_by_role("button", name="Add the question").click()
    expect(page.locator(".question-list li")).to_have_count(2)
    page.get_by_label("Send to").select_option(label="Tom Tenant <tom@alpha.example>")
    screenshots(page, "survey-build")
    page.get_by_role("button", name="Send the survey").click()
    expect(page.get_by_text("Survey sent to 1 person.")).to_be_visible()

"""A meeting in a real Chromium: a chair drafts the agenda, records attendance, agrees two
actions (Pursue, owned by police; Prevent, owned by the VCSE member) and closes the meeting.
The VCSE youth worker, on a phone and by keyboard, sees their action, posts progress and
marks it done. The next agenda shows the police action carried forward, and not the done
one. The meeting pack PDF renders, is inspected, and its first page is not blank."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import browser_sign_in, screenshot
from tests.integration import meetings_world as mw
from webmap.features.meetings.lifecycle import london_day
from webmap.features.packs.inspect import inspect_pdf, is_blank, render_page_png

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
PURSUE = "Patrols at the bus station on school evenings"
PREVENT = "Detached youth work at the shelter on Fridays"


@pytest.fixture()
def world(make_agency: Any, make_user: Any, owner_session_factory: Any) -> mw.World:
    return mw.build(make_agency, make_user, owner_session_factory)


@pytest.fixture()
def desktop(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture()
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    yield context.new_page()
    context.close()


def _errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def _agree(page: Any, four_p: str, title: str, owner: str, due: str, area: str) -> None:
    form = page.locator("form", has=page.get_by_role("button", name="Agree the action"))
    form.get_by_role("radio", name=four_p).check()
    form.get_by_label("What will be done").fill(title)
    form.get_by_label("Owner agency").select_option(label=owner)
    form.get_by_label("Due date").fill(due)
    form.get_by_label("Linked to").select_option(label=area)
    form.get_by_role("button", name="Agree the action").click()
    expect(page.locator(".flash")).to_contain_text("action agreed")


def _new_meeting(page: Any, base: str, world: mw.World, day: str) -> None:
    page.goto(f"{base}/meetings")
    page.locator(f'a[href="/meetings/panels/{world.panel_id}"]').first.click()
    page.get_by_label("Date of the meeting").fill(day)
    page.get_by_role("button", name="Make the meeting").click()
    expect(page.locator("h1")).to_contain_text("meeting of")


def test_a_meeting_from_agenda_to_pack(
    desktop: Any, phone: Any, live_server: str, world: mw.World, make_user: Any,
    owner_session_factory: Any,
) -> None:  # fmt: skip
    base, today = live_server, london_day(datetime.now(UTC))
    chair = mw.user(world, make_user, "police", "panel_chair")
    youth = mw.user(world, make_user, "vcse", "practitioner")
    errors = _errors(desktop)
    browser_sign_in(desktop, base, chair, owner_session_factory)
    names = dict(zip(("police", "vcse"), _agency_names(owner_session_factory, world), strict=True))
    area = _area_label(owner_session_factory, world)

    _new_meeting(desktop, base, world, today.isoformat())
    meeting_url = desktop.url
    desktop.get_by_role("button", name="Draft the agenda").click()
    expect(desktop.locator(".m-agenda-item").first).to_be_visible()
    # Attendance: every member attended but the school, which sent apologies.
    for fieldset in desktop.locator("fieldset.m-attendance").all():
        choice = "Sent apologies" if "Education" in fieldset.inner_text() else "Attended"
        fieldset.get_by_role("radio", name=choice).check()
    desktop.get_by_role("button", name="Record attendance").click()
    expect(desktop.locator(".flash")).to_contain_text("Attendance recorded")
    due = (today + timedelta(days=21)).isoformat()
    _agree(desktop, "Pursue", PURSUE, names["police"] + " (Police)", due, area)
    _agree(desktop, "Prevent", PREVENT, names["vcse"] + " (Voluntary and community (VCSE))",
           due, area)  # fmt: skip
    desktop.get_by_role("button", name="Close the meeting").click()
    expect(desktop.locator(".m-facts")).to_contain_text("Closed")
    screenshot(desktop, "meeting-closed-1280")

    # The pack: rendered and inspected by the server, then looked at here.
    pdf = desktop.request.get(f"{base}/api/v1/meetings/{meeting_url.rsplit('/', 1)[-1]}/pack.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert inspect_pdf(pdf.body(), ["the qzxvbolt den"]) == []
    assert not is_blank(render_page_png(pdf.body(), 0, scale=0.5))

    # The youth worker, on a phone, by keyboard: their action, progress, done.
    browser_sign_in(phone, base, youth, owner_session_factory)
    phone.goto(f"{base}/meetings/actions")
    phone.get_by_role("link", name=PREVENT).click()
    _no_sideways_scroll(phone)
    phone.get_by_label("Progress", exact=True).focus()
    phone.keyboard.type("Two sessions held; the group now knows where to get help.")
    done = phone.get_by_role("radio", name="Done")
    done.focus()
    phone.keyboard.press("Space")
    expect(done).to_be_checked()
    phone.get_by_role("button", name="Post progress").focus()
    phone.keyboard.press("Enter")
    expect(phone.locator(".flash")).to_contain_text("Progress posted")
    expect(phone.locator(".m-facts")).to_contain_text("Done")
    screenshot(phone, "meeting-action-done-390")

    # The next meeting's agenda carries the police action forward, not the done one.
    _new_meeting(desktop, base, world, (today + timedelta(days=14)).isoformat())
    desktop.get_by_role("button", name="Draft the agenda").click()
    carried = desktop.locator(".m-agenda-item", has_text="Actions carried forward")
    expect(carried).to_have_count(1)
    expect(carried.locator("input[type=text]")).to_have_value(
        f"Pursue · {names['police']}: {PURSUE}"
    )
    screenshot(desktop, "meeting-next-agenda-1280")
    _no_sideways_scroll(desktop)
    assert errors == []


def _no_sideways_scroll(page: Any) -> None:
    wide = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1")
    assert not wide, f"{page.url} scrolls sideways"


def _agency_names(owner_session_factory: Any, world: mw.World) -> list[str]:
    from sqlalchemy import text

    with owner_session_factory() as s:
        return [
            str(s.execute(text("SELECT name FROM agency WHERE id = :a"), {"a": world.agency_ids[k]})
                .scalar_one())
            for k in ("police", "vcse")
        ]  # fmt: skip


def _area_label(owner_session_factory: Any, world: mw.World) -> str:
    from sqlalchemy import text

    with owner_session_factory() as s:
        return str(
            s.execute(
                text("SELECT code || ' ' || name FROM area WHERE id = :a"), {"a": world.area_id}
            ).scalar_one()
        )

"""The status page in a real headless Chromium (Debian's ``chromium`` + ``chromium-driver``,
driven by Selenium) against a running ``crcgw serve``: it loads, shows the registered room,
shows a call placed through the control API while it lasts and its record afterwards (without
reloading), hangs up a call from the page, and refuses changes without the change token.

Selenium Manager is never used (the driver's path is given), so nothing is downloaded.
``CRCGW_SCREENSHOT=docs/status-page.png`` also saves the screenshot taken during a call there.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from api_client.emulator import meeting_passcode
from tests.web.conftest import MEETING, READ_TOKEN, ROOM, TOKEN, Served

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
                       reason="Debian chromium and chromium-driver are not installed"),
]


WAIT_S = 45


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    profile = tempfile.mkdtemp(prefix="crcgw-chromium.")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1280,1000"):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(WAIT_S)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def until(driver: Any, condition: Callable[[Any], Any], what: str) -> Any:
    try:
        return WebDriverWait(driver, WAIT_S, poll_frequency=0.2).until(condition)
    except TimeoutException:
        raise AssertionError(f"timed out waiting for {what}; page:\n"
                             f"{driver.find_element(By.TAG_NAME, 'body').text[:3000]}") from None


def log_in(driver: Any, served: Served, token: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{served.base}/status/")
    until(driver, lambda d: d.current_url.endswith("/status/login"), "the login form")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "login-button").click()
    until(driver, lambda d: d.find_elements(By.ID, "live"), "the status page")


def present(element_id: str) -> Callable[[Any], bool]:
    return lambda d: bool(d.find_elements(By.ID, element_id))


def absent(element_id: str) -> Callable[[Any], bool]:
    return lambda d: not d.find_elements(By.ID, element_id)


def test_page_loads_and_shows_the_registered_room(browser: Any, served: Served) -> None:
    log_in(browser, served, TOKEN)
    row = browser.find_element(By.ID, f"room-{ROOM}")
    assert "registered" in row.text and "udp" in row.text
    assert "ready" in browser.find_element(By.ID, "region-health").text
    assert browser.find_element(By.ID, "pool-leased").text == "0"
    # the session cookie is out of the page's reach, the token is nowhere in the page
    assert "crcgw_session" not in browser.execute_script("return document.cookie")
    assert TOKEN not in browser.page_source
    paint = until(browser, lambda d: d.execute_script(
        "const p = performance.getEntriesByName('first-contentful-paint');"
        "return p.length ? p[0].startTime : null;"), "the first contentful paint")
    assert paint > 0  # its budget is checked in bench/test_bench_status_page.py


def test_a_call_shows_live_then_as_a_record_without_reload(browser: Any, served: Served) -> None:
    log_in(browser, served, TOKEN)
    browser.execute_script("window.crcgwMarker = 'same page';")
    call_id = served.start_call()
    until(browser, present(f"call-{call_id}"), "the call in the live calls")
    row = browser.find_element(By.ID, f"call-{call_id}")
    assert ROOM in row.text and MEETING in row.text and "connected" in row.text
    assert meeting_passcode(MEETING) not in browser.page_source
    until(browser, lambda d: "MOS" in d.find_element(By.ID, f"call-{call_id}").text,
          "media quality of the call")
    shot = Path(tempfile.mkdtemp(prefix="crcgw-shot.")) / "status-page.png"
    try:
        height = browser.execute_script(
            "return document.documentElement.scrollHeight + window.outerHeight"
            " - window.innerHeight")
        browser.set_window_size(1280, min(3000, height + 10))
        try:
            browser.save_screenshot(str(shot))
        finally:
            browser.set_window_size(1280, 1000)
        width, height = struct.unpack(">II", shot.read_bytes()[16:24])
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and width >= 800 and height >= 600
        if os.environ.get("CRCGW_SCREENSHOT"):
            shutil.copyfile(shot, os.environ["CRCGW_SCREENSHOT"])
    finally:
        shutil.rmtree(shot.parent, ignore_errors=True)
    hung = httpx.delete(f"{served.base}/calls/{call_id}", timeout=20,
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert hung.status_code == 200
    until(browser, absent(f"call-{call_id}"), "the call to leave the live calls")
    until(browser, present(f"cdr-{call_id}"), "the call's record")
    assert "connected" in browser.find_element(By.ID, f"cdr-{call_id}").text
    assert browser.execute_script("return window.crcgwMarker") == "same page"


def test_hang_up_from_the_page(browser: Any, served: Served) -> None:
    log_in(browser, served, TOKEN)
    call_id = served.start_call()
    until(browser, present(f"hangup-{call_id}"), "the call's hang-up button")
    browser.find_element(By.ID, f"hangup-{call_id}").click()
    until(browser, present("confirm-button"), "the confirmation")
    assert call_id in browser.find_element(By.TAG_NAME, "h2").text
    assert call_id in served.live_calls()  # nothing happens before the confirmation
    browser.find_element(By.ID, "confirm-button").click()
    until(browser, present("live"), "the status page after the change")
    assert call_id in browser.find_element(By.ID, "notice").text
    served.wait(lambda: call_id not in served.live_calls(), "the call to end")
    until(browser, present(f"cdr-{call_id}"), "the call's record")


def test_changes_are_refused_without_the_change_token(browser: Any, served: Served) -> None:
    log_in(browser, served, READ_TOKEN)
    assert "read-only" in browser.find_element(By.CLASS_NAME, "who").text
    call_id = served.start_call()
    until(browser, present(f"hangup-{call_id}"), "the call's hang-up button")
    browser.find_element(By.ID, f"hangup-{call_id}").click()
    until(browser, present("change-token"), "the confirmation asking for the change token")
    browser.find_element(By.ID, "confirm-button").click()
    until(browser, present("confirm-error"), "the refusal")
    assert "change token" in browser.find_element(By.ID, "confirm-error").text
    browser.find_element(By.ID, "change-token").send_keys("not-the-token")
    browser.find_element(By.ID, "confirm-button").click()
    until(browser, present("confirm-error"), "the second refusal")
    assert call_id in served.live_calls()
    # without the page's session and CSRF token, nothing at all
    outsider = httpx.post(f"{served.base}/status/calls/{call_id}/hangup",
                          data={"token": TOKEN}, timeout=20)
    assert outsider.status_code == 401
    assert call_id in served.live_calls()
    # the change token in the confirmation form allows it
    browser.find_element(By.ID, "change-token").send_keys(TOKEN)
    browser.find_element(By.ID, "confirm-button").click()
    until(browser, present("live"), "the status page after the change")
    served.wait(lambda: call_id not in served.live_calls(), "the call to end")


def test_readable_on_a_phone_and_labelled(browser: Any, served: Served) -> None:
    log_in(browser, served, TOKEN)
    call_id = served.start_call()
    browser.set_window_size(390, 844)
    try:
        browser.get(f"{served.base}/status/")
        until(browser, present(f"hangup-{call_id}"), "the call's hang-up button")
        right = browser.execute_script(
            "return arguments[0].getBoundingClientRect().right - window.innerWidth;",
            browser.find_element(By.ID, f"hangup-{call_id}"))
        assert right <= 0, "the Hang up button is off the phone's screen"
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth;")
        wide = browser.execute_script(
            "return [window.innerWidth].concat(Array.from(document.querySelectorAll('body *'))"
            ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1"
            " && !(e.parentElement && e.parentElement.closest('.scroll'))).slice(0, 5).map(e => e.tagName + '.' + e.className));")
        assert overflow <= 1, f"the page is {overflow} px wider than a phone screen: {wide}"
        unlabelled = browser.execute_script(
            "return Array.from(document.querySelectorAll('input:not([type=hidden]), select'))"
            ".filter(e => !e.labels || e.labels.length === 0).map(e => e.outerHTML);")
        assert unlabelled == []
        # keyboard: the first Tab reaches the skip link
        browser.find_element(By.TAG_NAME, "body").send_keys("\t")
        assert browser.switch_to.active_element.get_attribute("class") == "skip"
    finally:
        browser.set_window_size(1280, 1000)
        httpx.delete(f"{served.base}/calls/{call_id}", timeout=20,
                     headers={"Authorization": f"Bearer {TOKEN}"})


def test_refresh_keeps_keyboard_focus_and_a_room_registers_again(browser: Any, served: Served) -> None:
    log_in(browser, served, TOKEN)
    link = browser.find_element(By.ID, f"register-{ROOM}")
    browser.execute_script("arguments[0].focus();", link)
    before = browser.execute_script("return document.body.getAttribute('data-refreshed')")
    until(browser, lambda d: d.execute_script(
        "return document.body.getAttribute('data-refreshed')") not in (None, before),
        "a refresh of the regions")
    with pytest.raises(StaleElementReferenceException):  # the row was replaced...
        link.get_attribute("id")
    # ...and the focus moved to its replacement
    assert browser.switch_to.active_element.get_attribute("id") == f"register-{ROOM}"
    browser.switch_to.active_element.send_keys("\n")  # Enter follows the link
    until(browser, present("confirm-button"), "the confirmation from the keyboard")
    browser.find_element(By.ID, "confirm-button").send_keys("\n")
    until(browser, present("live"), "the status page after the change")
    assert f"Room {ROOM} registering again" in browser.find_element(By.ID, "notice").text
    until(browser, lambda d: "registered" in d.find_element(By.ID, f"room-{ROOM}").text,
          "the room registered again")

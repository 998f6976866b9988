"""The dashboard in Debian's Chromium, driven by Playwright: what a person at the tablet sees.

Set BACKREP_SCREENSHOT_DIR=docs/screenshots to refresh the committed screenshots; by default
they go to the test's temporary directory.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect, sync_playwright

from backrep.live import LiveHub
from backrep.service import Samples, Service, programme
from backrep.store import Store
from tests.serving import served
from tests.test_service import make_recording, wait_for
from tests.test_web_serve import start_server, stop_server
from web import create_app

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TABLET = {"width": 1280, "height": 800}
PIN = "314159"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("BACKREP_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _watch_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def test_replay_updates_count_hold_timer_and_history_live(browser, tmp_path, shots):
    # Holds of 23 s, so the timer passes its 20 s target and says "done" before the lowering.
    recording = make_recording(tmp_path / "knee_to_chest.csv", reps=3, hold_s=23.0, lead_s=12.0)
    proc, base = start_server(["--replay", str(recording), "--exercise", "knee_to_chest", "--speed", "8"], tmp_path)
    try:
        live = browser.new_page(viewport=TABLET)
        history = browser.new_page(viewport=TABLET)
        errors = _watch_errors(live) + _watch_errors(history)
        live.goto(base + "/")
        history.goto(base + "/history")
        expect(live.locator("#live-exercise")).to_have_text("Knee to chest")
        expect(live.locator("#target")).to_have_text("5")
        expect(live.locator("#reps")).to_have_text("0")
        count_box = live.locator(".count").bounding_box()
        # The hold timer counts up, then turns to "done" at the target, before the first rep counts.
        live.wait_for_function("parseInt(document.querySelector('#hold-elapsed').textContent) >= 5")
        live.wait_for_function("document.querySelector('#hold').dataset.done === 'true'")
        expect(live.locator("#hold-elapsed")).to_have_text("done")
        live.wait_for_function("document.querySelector('#reps').textContent === '2'")
        live.wait_for_function("document.querySelector('#hold-elapsed').textContent.endsWith(' s')"
                               " && parseInt(document.querySelector('#hold-elapsed').textContent) >= 8")
        assert live.locator(".count").bounding_box() == count_box  # tabular numerals: nothing jumps
        live.screenshot(path=str(shots / "live.png"))
        expect(live.locator("#reps")).to_have_text("3", timeout=30_000)
        # The recording ends: the set closes and its summary replaces the live view.
        expect(live.locator("#summary-reps")).to_have_text("3 / 5", timeout=15_000)
        expect(live.locator("#summary-holds li")).to_have_count(3)
        # The history page, untouched since it loaded, now lists the finished set.
        row = history.locator(".set").first
        expect(row.locator(".set-reps")).to_have_text("3 / 5")
        expect(row).to_contain_text("Knee to chest")
        expect(history.locator("#chart rect.bar")).to_have_count(1)
        history.screenshot(path=str(shots / "history.png"), full_page=False)
        assert errors == []
    finally:
        code, took_s = stop_server(proc)
    assert code == 0 and took_s < 5


def test_a_lost_connection_is_said_in_large_type_and_the_frozen_count_dimmed(browser, tmp_path):
    # The Pi loses power mid-set: the count and hold ring across the room stop on their last
    # values, which must not pass for live ones.
    recording = make_recording(tmp_path / "knee_to_chest.csv", reps=3, hold_s=23.0, lead_s=12.0)
    proc, base = start_server(["--replay", str(recording), "--exercise", "knee_to_chest"], tmp_path)
    try:
        page = browser.new_page(viewport=TABLET)
        page.goto(base + "/")
        expect(page.locator("#live-exercise")).to_have_text("Knee to chest")
        expect(page.locator("#connection-lost")).to_be_hidden()
        assert page.locator(".live-grid").evaluate("e => getComputedStyle(e).opacity") == "1"
    finally:
        proc.kill()
        proc.wait(timeout=10)
    banner = page.locator("#connection-lost")
    expect(banner).to_be_visible(timeout=10_000)
    expect(banner).to_contain_text("No connection")
    assert float(banner.evaluate("e => getComputedStyle(e).fontSize").removesuffix("px")) >= 24
    assert float(page.locator(".live-grid").evaluate("e => getComputedStyle(e).opacity")) < 0.5
    expect(page.locator("#reps")).to_be_visible()     # the last count stays, dimmed


def test_without_a_sensor_the_page_says_so_before_a_set_is_started(browser, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[sensor]\nbus = 97\n")
    proc, base = start_server(["--config", str(config)], tmp_path)
    try:
        page = browser.new_page(viewport=TABLET)
        page.goto(base + "/")
        expect(page.locator("#programme")).to_be_visible()
        expect(page.locator("#sensor-warning")).to_have_text("No sensor found: check it is plugged in to the Pi")
        expect(page.locator("#sensor-state")).to_have_text("absent")
    finally:
        stop_server(proc)


class StillSource:
    """A thigh lying flat and still, 100 samples a second, in real time."""

    mode = "sensor"

    def __init__(self) -> None:
        self.n = 0
        self.rng = np.random.default_rng(3)
        self.state = "reading"

    def read(self, timeout_s: float = 1.0):
        time.sleep(0.05)
        t_s = (self.n + np.arange(5)) / 100.0
        self.n += 5
        accel = np.tile([0.0, 0.0, 1.0], (5, 1)) + self.rng.normal(0, 0.002, (5, 3))
        return Samples(t_s, accel, self.rng.normal(0, 0.1, (5, 3)))

    @property
    def status(self) -> dict:
        return {"state": self.state, "rate_hz": 100.0}

    def close(self) -> None:
        pass


@pytest.fixture
def manual_server(tmp_path):
    """The whole stack in this process over a still sensor, served by waitress."""
    store = Store.in_dir(tmp_path)
    hub = LiveHub()
    source = StillSource()
    service = Service(source, hub, store)
    app = create_app({"HEARTBEAT_S": 1.0, "PAIRING_PIN": PIN}, live=hub, store=store, controller=service,
                     programme=programme())
    service.start()
    with served(app, threads=8) as base:
        yield base, store, source
        hub.close_all()
        service.stop()
    store.close()


def test_choose_start_reference_pose_go_stop_and_summary(browser, manual_server, shots):
    base, store, source = manual_server
    page = browser.new_page(viewport=TABLET)
    errors = _watch_errors(page)
    page.goto(base + "/")
    expect(page.locator("#safety")).to_contain_text("pain free")
    expect(page.locator(".exercise")).to_have_count(4)
    expect(page.locator("#start")).to_be_disabled()
    page.locator(".exercise", has_text="Heel slide").click()
    page.locator(".leg[data-leg='left']").click()
    page.screenshot(path=str(shots / "programme.png"))
    # Not paired yet: starting a set asks for the PIN, then starts it.
    page.locator("#start").click()
    expect(page.locator("#pairing")).to_be_visible()
    expect(page.locator("#pair-pin")).to_be_focused()
    page.locator("#pair-pin").fill("271828")
    page.locator("#pair-submit").click()
    expect(page.locator("#pair-error")).to_contain_text("wrong PIN")
    expect(page.locator("#live")).to_be_hidden()
    page.screenshot(path=str(shots / "pairing.png"))
    page.locator("#pair-pin").fill(PIN)
    page.locator("#pair-submit").click()
    expect(page.locator("#pairing")).to_be_hidden()
    expect(page.locator("#live-exercise")).to_have_text("Heel slide")
    expect(page.locator("#live-leg")).to_have_text("Left")
    expect(page.locator("#reference .instruction")).to_have_text("Lie flat, legs straight, keep still")
    # Still for long enough: the reference is taken and the page says go.
    expect(page.locator("#go")).to_be_visible(timeout=10_000)
    expect(page.locator("#reference")).to_be_hidden()
    expect(page.locator("#reps")).to_have_text("0")
    expect(page.locator("#target")).to_have_text("10")
    expect(page.locator("#hold")).to_be_hidden()  # heel slides have no hold to time
    expect(page.locator("#sensor-warning")).to_be_hidden()
    source.state = "lost"  # the strap's cable comes out
    expect(page.locator("#sensor-warning")).to_have_text("Sensor lost: check the strap and the cable")
    expect(page.locator("#sensor-state")).to_have_text("lost")
    source.state = "reading"
    expect(page.locator("#sensor-warning")).to_be_hidden()
    expect(page.locator("#sensor-rate")).to_have_text("100 Hz")
    page.locator("#stop").click()
    expect(page.locator("#summary-reps")).to_have_text("0 / 10")
    expect(page.locator("#programme")).to_be_visible()
    (record,) = store.sets()
    assert (record.exercise, record.leg, record.status) == ("heel_slide", "left", "closed")
    # The tablet stays paired: the export on the history page downloads without asking again.
    page.goto(base + "/history")
    with page.expect_download() as download:
        page.locator("#export button[type='submit']").click()
    assert download.value.suggested_filename.startswith("backrep-")
    assert "heel_slide" in Path(download.value.path()).read_text()
    expect(page.locator("#pairing")).to_be_hidden()
    # The browser logs the refused first start (401) and the wrong PIN (403); nothing else went wrong.
    expected = ("status of 401 (UNAUTHORIZED)", "status of 403 (FORBIDDEN)")
    assert [e for e in errors if not e.startswith("Failed to load resource") or not e.endswith(expected)] == []


def test_the_exercise_list_comes_even_when_its_first_request_fails(browser, manual_server):
    # The Pi restarting as the page loads: the list used to stay empty, and Start disabled,
    # until someone reloaded the page.
    base, _, _ = manual_server
    page = browser.new_page(viewport=TABLET)
    refused = []

    def fail_once(route):
        if not refused:
            refused.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/api/programme", fail_once)
    page.goto(base + "/")
    expect(page.locator(".exercise")).to_have_count(4, timeout=10_000)
    assert len(refused) == 1


def test_dark_theme_toggle_is_remembered(browser, manual_server):
    base, _, _ = manual_server
    page = browser.new_page(viewport=TABLET, color_scheme="light")
    page.goto(base + "/")
    background = "getComputedStyle(document.body).backgroundColor"
    light = page.evaluate(background)
    page.locator("#theme").click()
    dark = page.evaluate(background)
    page.reload()
    assert light != dark and page.evaluate(background) == dark


def private_dashboard(tmp_path):
    """An idle service's app whose every page and stream needs pairing: store, hub and app."""
    store = Store.in_dir(tmp_path)
    hub = LiveHub()
    hub.set_state({"exercise": None, "phase": "idle", "reps": 0, "holds": [], "set": None, "last_set": None,
                   "hold": {"active": False, "elapsed_s": 0.0, "target_s": 0.0},
                   "sensor": {"state": "reading", "rate_hz": 100.0}, "mode": "sensor"})
    app = create_app({"HEARTBEAT_S": 1.0, "PAIRING_PIN": PIN, "REQUIRE_TOKEN_FOR_READING": True}, live=hub,
                     store=store, programme=programme())
    return store, hub, app


def test_a_private_dashboard_asks_for_the_pin_then_shows_the_live_view(browser, tmp_path):
    """``require_token_for_reading``: the page itself is locked until the tablet pairs."""
    store, hub, app = private_dashboard(tmp_path)
    with served(app) as base:
        try:
            page = browser.new_page(viewport=TABLET)
            page.goto(base + "/")
            expect(page.locator("#pairing")).to_be_visible()
            expect(page.locator("#pair-cancel")).to_be_hidden()
            expect(page.locator(".exercise")).to_have_count(0)
            page.locator("#pair-pin").fill(PIN)
            page.locator("#pair-submit").click()
            # Reloaded with the cookie: the page, its data and its one EventSource are let in.
            expect(page.locator(".exercise")).to_have_count(4)
            expect(page.locator("#pairing")).to_be_hidden()
            expect(page.locator("#sensor-state")).to_have_text("reading")
            expect(page.locator("#sensor-rate")).to_have_text("100 Hz")
        finally:
            hub.close_all()
    store.close()


def test_a_tablet_unpaired_while_watching_is_asked_for_the_pin_not_left_reconnecting(browser, tmp_path):
    store, hub, app = private_dashboard(tmp_path)
    with served(app) as base:
        try:
            page = browser.new_page(viewport=TABLET)
            page.goto(base + "/")
            page.locator("#pair-pin").fill(PIN)
            page.locator("#pair-submit").click()
            expect(page.locator(".exercise")).to_have_count(4)
            app.extensions["backrep"]["access"].revoke_all()          # "unpair every tablet"
            hub.close_all()                                            # the stream ends (a restart)
            expect(page.locator("#pairing")).to_be_visible(timeout=15_000)
        finally:
            hub.close_all()
    store.close()


def test_the_count_is_spoken_once_each_the_dose_is_marked_and_nothing_past_it_is_cheered(browser, tmp_path):
    # A set whose start could not be saved (no id), a rep taken back and counted again, and one
    # rep past the dose of three: each rep is spoken once, the third says the set is done, the
    # fourth is counted silently (the programme never pushes past the dose).
    store = Store.in_dir(tmp_path)
    hub = LiveHub()
    state = {"exercise": "heel_slide", "phase": "ready", "reps": 0, "holds": [], "target_reps": 3,
             "leg": "left", "set": {"id": None, "exercise": "heel_slide", "leg": "left", "target_reps": 3},
             "last_set": None, "hold": {"active": False, "elapsed_s": 0.0, "target_s": 0.0},
             "sensor": {"state": "reading", "rate_hz": 100.0}, "mode": "sensor", "angle_deg": 0.0}
    hub.set_state(state)
    app = create_app({"HEARTBEAT_S": 1.0, "PAIRING_PIN": PIN}, live=hub, store=store, programme=programme())
    with served(app) as base:
        try:
            page = browser.new_page(viewport=TABLET)
            page.add_init_script("""
                window.__said = [];
                Object.defineProperty(window, "speechSynthesis", {value: {
                    speak: (u) => window.__said.push(u.text), cancel: () => {}}});
                localStorage.setItem("backrep-speech-on", "1");
            """)
            page.goto(base + "/")
            expect(page.locator("#reps")).to_have_text("0")
            wait_for(lambda: hub.listener_count == 1)   # the page's stream is open: it hears what follows
            t_s = 10.0
            for kind, rep in [("rep_counted", 1), ("rep_counted", 2), ("rep_retracted", None),
                              ("rep_counted", 2), ("rep_counted", 3), ("rep_counted", 4)]:
                t_s += 3.0
                hub.publish("engine", {"kind": kind, "t_s": t_s, "rep": rep, "set_id": None})
                state = {**state, "reps": rep or state["reps"] - 1}
                hub.set_state(state)
            expect(page.locator("#reps")).to_have_text("4")
            page.wait_for_function("window.__said.length >= 4")
            time.sleep(0.3)
            assert page.evaluate("window.__said") == ["1", "2", "2", "3. Set complete: rest now."]
        finally:
            hub.close_all()
    store.close()

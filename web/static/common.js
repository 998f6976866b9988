// Shared by both pages: theme, the sensor badge, the page's one EventSource, and pairing.
"use strict";
const backrep = (() => {
  const root = document.documentElement;
  const saved = localStorage.getItem("backrep-theme");
  if (saved) root.dataset.theme = saved;
  document.getElementById("theme").addEventListener("click", () => {
    const dark = root.dataset.theme
      ? root.dataset.theme === "dark"
      : matchMedia("(prefers-color-scheme: dark)").matches;
    root.dataset.theme = dark ? "light" : "dark";
    localStorage.setItem("backrep-theme", root.dataset.theme);
    document.dispatchEvent(new Event("backrep-theme"));
  });

  function text(id, value) {
    const el = document.getElementById(id);
    if (el && el.textContent !== String(value)) el.textContent = value;
  }

  function showSensor(state) {
    const sensor = (state && state.sensor) || {};
    const badge = document.getElementById("sensor");
    badge.dataset.state = sensor.state || "unknown";
    text("sensor-state", sensor.state || "unknown");
    const rate = state && (state.rate_hz || sensor.rate_hz);
    text("sensor-rate", rate ? `${Math.round(rate)} Hz` : "");
    const mode = document.getElementById("mode");
    if (state && state.mode && state.mode !== "sensor") {
      mode.hidden = false;
      text("mode", state.mode === "demo" ? "demo: recorded sessions" : "replay");
    } else mode.hidden = true;
  }

  // Whether the live stream is up. Lost, the page says so in large type and dims what it shows:
  // a count or hold timer frozen on its last value must not pass for a live one across the room.
  function connected(up) {
    document.getElementById("connection-lost").hidden = up;
    if (up) delete document.body.dataset.connection;
    else document.body.dataset.connection = "lost";
  }

  // One EventSource per page. The browser reconnects by itself (sending Last-Event-ID) after a
  // network error; after a refusal (503: too many streams) it gives up, so we try again later.
  function live(handlers) {
    let source = null;
    const open = () => {
      const named = ["engine", "set_started", "set_ended"].filter((name) => handlers[name]);
      source = new EventSource(named.length ? `/api/events?events=${named.join(",")}` : "/api/events");
      source.addEventListener("message", (e) => {
        const state = JSON.parse(e.data);
        connected(true);
        showSensor(state);
        if (handlers.state) handlers.state(state);
      });
      for (const name of named) {
        source.addEventListener(name, (e) => handlers[name](JSON.parse(e.data), e));
      }
      source.onerror = () => {
        connected(false);
        document.getElementById("sensor").dataset.state = "offline";
        text("sensor-state", "no connection");
        if (source.readyState === EventSource.CLOSED) {
          // Refused, not cut off: too many streams (503), or this tablet was unpaired (401). A
          // plain request tells which, and asks for the PIN on a 401; then the stream again.
          request("/api/state").catch(() => {}).finally(() => setTimeout(open, 3000));
        }
      };
    };
    open();
  }

  // JSON from ``url``, asked again every few seconds until it comes (the Pi may be restarting).
  function load(url) {
    return request(url)
      .then((r) => { if (!r.ok) throw new Error(`HTTP ${r.status}`); return r.json(); })
      .catch(() => new Promise((resolve) => setTimeout(resolve, 3000)).then(() => load(url)));
  }

  // -- pairing: a token kept in localStorage, sent as a bearer header with every request ------
  // A request refused with 401 opens the pairing screen; once paired it is sent again.
  const TOKEN_KEY = "backrep-token";
  const screen = document.getElementById("pairing");
  const pinBox = document.getElementById("pair-pin");
  const pairError = document.getElementById("pair-error");
  let pairing = null;  // { promise, resolve, reject } while the screen is up

  function pair() {
    if (pairing) return pairing.promise;
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    pairing = { promise, resolve, reject };
    pairError.hidden = true;
    pinBox.value = "";
    screen.hidden = false;
    pinBox.focus();
    return promise;
  }
  function endPairing(error) {
    const pending = pairing;
    pairing = null;
    screen.hidden = true;
    if (pending) error ? pending.reject(error) : pending.resolve();
  }
  pinBox.addEventListener("input", () => { pinBox.value = pinBox.value.replace(/[^0-9]/g, "").slice(0, 6); });
  document.getElementById("pair-cancel").addEventListener("click", () => endPairing(new Error("Not paired: pair this tablet with the PIN to do that.")));
  document.getElementById("pair-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const pin = pinBox.value;
    const fail = (message) => { pairError.hidden = false; text("pair-error", message); pinBox.select(); };
    if (!/^[0-9]{6}$/.test(pin)) return fail("The PIN is 6 digits.");
    const submit = document.getElementById("pair-submit");
    submit.disabled = true;
    try {
      const response = await fetch("/api/pair", { method: "POST", headers: { "Content-Type": "application/json" },
                                                  body: JSON.stringify({ pin }) });
      const data = await response.json().catch(() => ({}));
      if (response.ok && data.token) {
        localStorage.setItem(TOKEN_KEY, data.token);
        endPairing(null);
      } else fail(data.error || `Refused (HTTP ${response.status}).`);
    } catch (err) {
      fail("No connection to the Pi. Try again.");
    } finally {
      submit.disabled = false;
    }
  });

  // fetch, with this tablet's token; a 401 opens the pairing screen, then the request goes again.
  async function request(url, options = {}) {
    for (let attempt = 0; ; attempt++) {
      const headers = { ...(options.headers || {}) };
      const token = localStorage.getItem(TOKEN_KEY);
      if (token) headers.Authorization = `Bearer ${token}`;
      const response = await fetch(url, { ...options, headers });
      if (response.status !== 401 || attempt > 0) return response;
      if (token) localStorage.removeItem(TOKEN_KEY);  // revoked, or from another install
      await pair();  // throws when the pairing is cancelled
    }
  }

  // A page locked because reading needs a token too: pair, then load it again.
  if (document.body.dataset.page === "locked") {
    document.getElementById("pair-cancel").hidden = true;
    text("sensor-state", "not paired");
    pair().then(() => location.reload());
  }

  return { live, load, text, showSensor, request, pair };
})();

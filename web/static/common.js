// Shared by both pages: theme, the sensor badge, and the page's one EventSource.
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

  // One EventSource per page. The browser reconnects by itself (sending Last-Event-ID) after a
  // network error; after a refusal (503: too many streams) it gives up, so we try again later.
  function live(handlers) {
    let source = null;
    const open = () => {
      source = new EventSource("/api/events");
      source.addEventListener("state", (e) => {
        const state = JSON.parse(e.data);
        showSensor(state);
        if (handlers.state) handlers.state(state);
      });
      for (const name of ["engine", "set_started", "set_ended"]) {
        source.addEventListener(name, (e) => handlers[name] && handlers[name](JSON.parse(e.data), e));
      }
      source.onerror = () => {
        document.getElementById("sensor").dataset.state = "offline";
        text("sensor-state", "no connection");
        if (source.readyState === EventSource.CLOSED) setTimeout(open, 3000);
      };
    };
    open();
  }

  return { live, text, showSensor };
})();

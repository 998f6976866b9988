// The live page: programme and set start, reference pose, count, hold ring, trace, cues, summary.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const text = backrep.text;
  let programme = { exercises: [], legs: [], safety_note: "" };
  let chosen = { exercise: localStorage.getItem("backrep-exercise"), leg: localStorage.getItem("backrep-leg") };
  let last = null;              // the previous state, to notice changes
  let goUntil = 0;
  let holdDoneAnnounced = false; // the hold under way has been announced done
  const announced = new Set();  // engine events already cued, so a replayed event is not cued twice
  const trace = [];             // [t_s, angle_deg] over the last 30 s of data time

  // -- cues: WebAudio beeps and optional Web Speech ------------------------------------------
  let audio = null;
  function audioContext() {
    if (!audio && window.AudioContext) audio = new AudioContext();
    return audio;
  }
  function unlock() {
    const ctx = audioContext();
    if (ctx && ctx.state === "suspended") ctx.resume();
    $("unmute").hidden = true;
  }
  document.addEventListener("pointerdown", unlock, { once: false, passive: true });
  $("unmute").addEventListener("click", unlock);
  function beep(notes) {
    if (!$("sound-on").checked) return;
    const ctx = audioContext();
    if (!ctx) return;
    if (ctx.state === "suspended") { $("unmute").hidden = false; return; }
    let t = ctx.currentTime;
    for (const [freq, dur] of notes) {
      const osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.35, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + dur);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t); osc.stop(t + dur + 0.02);
      t += dur + 0.04;
    }
  }
  function say(words) {
    if (!$("speech-on").checked || !window.speechSynthesis) return;
    speechSynthesis.cancel();
    speechSynthesis.speak(new SpeechSynthesisUtterance(words));
  }
  for (const id of ["sound-on", "speech-on"]) {
    const box = $(id);
    const saved = localStorage.getItem(`backrep-${id}`);
    if (saved !== null) box.checked = saved === "1";
    box.addEventListener("change", () => localStorage.setItem(`backrep-${id}`, box.checked ? "1" : "0"));
  }

  // -- programme ----------------------------------------------------------------------------
  function renderProgramme() {
    text("safety", programme.safety_note);
    const box = $("exercises");
    box.replaceChildren();
    for (const ex of programme.exercises) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "exercise"; b.dataset.exercise = ex.id;
      b.setAttribute("role", "radio");
      b.innerHTML = `<span class="name"></span><span class="desc"></span><span class="dose"></span>` +
        (ex.note ? `<span class="note"></span>` : "");
      b.querySelector(".name").textContent = ex.name;
      b.querySelector(".desc").textContent = ex.description;
      b.querySelector(".dose").textContent = ex.dose;
      if (ex.note) b.querySelector(".note").textContent = ex.note;
      b.addEventListener("click", () => { chosen.exercise = ex.id; localStorage.setItem("backrep-exercise", ex.id); showChoice(); });
      box.appendChild(b);
    }
    showChoice();
  }
  function showChoice() {
    for (const b of document.querySelectorAll(".exercise")) {
      const on = b.dataset.exercise === chosen.exercise;
      b.setAttribute("aria-pressed", on); b.setAttribute("aria-checked", on);
    }
    for (const b of document.querySelectorAll(".leg")) b.setAttribute("aria-pressed", b.dataset.leg === chosen.leg);
    $("start").disabled = !(programme.exercises.some((e) => e.id === chosen.exercise) && chosen.leg);
  }
  for (const b of document.querySelectorAll(".leg")) {
    b.addEventListener("click", () => { chosen.leg = b.dataset.leg; localStorage.setItem("backrep-leg", chosen.leg); showChoice(); });
  }
  function nameOf(id) {
    const ex = programme.exercises.find((e) => e.id === id);
    return ex ? ex.name : (id || "");
  }

  async function post(url, body) {
    const response = await backrep.request(url, { method: "POST", headers: { "Content-Type": "application/json" },
                                                  body: body ? JSON.stringify(body) : "{}" });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }
  $("start").addEventListener("click", async () => {
    unlock();
    $("start-error").hidden = true;
    try { await post("/api/sets", chosen); }
    catch (err) { $("start-error").hidden = false; text("start-error", err.message); }
  });
  $("stop").addEventListener("click", async () => {
    $("stop-error").hidden = true;
    try { await post("/api/sets/stop"); }
    catch (err) { $("stop-error").hidden = false; text("stop-error", `Not stopped: ${err.message}`); }
  });

  // -- live state ---------------------------------------------------------------------------
  function render(state) {
    const active = !!state.set;
    $("live").hidden = !active;
    $("programme").hidden = active;
    renderSummary(active ? null : state.last_set);
    const history = state.history || {};
    $("history-warning").hidden = history.saving !== false;
    text("history-warning", history.saving === false
      ? `History is not being saved right now${history.error ? ` (${history.error})` : ""}. Counting carries on.` : "");
    const sensorState = (state.sensor || {}).state;
    const warnings = { lost: "Sensor lost: check the strap and the cable", reconnecting: "Sensor reconnecting…",
                       stuck: "Sensor not responding", calibrating: "Sensor calibrating: keep still",
                       absent: "No sensor found: check it is plugged in to the Pi" };
    $("sensor-warning").hidden = !warnings[sensorState];
    text("sensor-warning", warnings[sensorState] || "");
    if (!active) { last = state; trace.length = 0; return; }

    text("live-exercise", nameOf(state.exercise));
    text("live-leg", state.leg ? state.leg[0].toUpperCase() + state.leg.slice(1) : "");
    const reference = state.phase === "reference";
    if (last && last.phase === "reference" && state.phase === "ready" && last.set && last.set.id === state.set.id) {
      goUntil = performance.now() + 1500;
      beep([[660, 0.12]]); say("Go");
    }
    $("reference").hidden = !reference;
    $("reference-bar").style.width = `${Math.round(100 * (state.reference_progress || 0))}%`;
    $("go").hidden = reference || performance.now() > goUntil;

    text("reps", state.reps);
    text("target", state.target_reps);
    $("complete").hidden = !(state.target_reps && state.reps >= state.target_reps);

    const hold = state.hold || {};
    const timesHolds = hold.target_s > 0;
    $("hold").hidden = !timesHolds;
    if (timesHolds) {
      const elapsed = hold.active ? hold.elapsed_s : 0;
      const done = hold.active && elapsed >= hold.target_s;
      $("hold").dataset.done = done;
      text("hold-elapsed", done ? "done" : `${Math.floor(elapsed)} s`);
      text("hold-target", `hold ${Math.round(hold.target_s)} s`);
      const pct = Math.min(100, (100 * elapsed) / hold.target_s);
      $("ring").setAttribute("stroke-dasharray", `${pct.toFixed(1)} 100`);
      if (!hold.active) holdDoneAnnounced = false;   // once per hold, whatever the set's id
      if (done && !holdDoneAnnounced) {
        holdDoneAnnounced = true;
        beep([[660, 0.15], [990, 0.3]]); say("Hold done");
      }
    }
    const holds = state.holds || [];
    text("hold-list", holds.length ? "Holds: " + holds.map((h) => `${h.duration_s.toFixed(1)} s`).join(" · ") : "");

    if (state.angle_deg !== null && state.angle_deg !== undefined && state.t_s !== null) {
      if (trace.length && state.t_s < trace[trace.length - 1][0]) trace.length = 0;
      trace.push([state.t_s, state.angle_deg]);
      while (trace.length && trace[0][0] < state.t_s - 30) trace.shift();
      text("angle", `${Math.round(state.angle_deg)}°`);
    } else text("angle", "");
    drawTrace();
    last = state;
  }

  function renderSummary(summary) {
    $("summary").hidden = !summary;
    if (!summary) return;
    text("summary-exercise", nameOf(summary.exercise));
    text("summary-leg", summary.leg || "");
    text("summary-reps", `${summary.reps} / ${summary.target_reps}`);
    $("summary-status").hidden = summary.status !== "interrupted";
    text("summary-status", summary.status || "");
    const list = $("summary-holds");
    const holds = summary.holds || [];
    const items = holds.map((h, i) => `Hold ${i + 1}: ${h.duration_s.toFixed(1)} s`);
    if (list.dataset.items !== items.join("|")) {
      list.dataset.items = items.join("|");
      list.replaceChildren(...items.map((t) => { const li = document.createElement("li"); li.textContent = t; return li; }));
    }
    const other = summary.leg === "left" ? "right" : "left";
    text("summary-rest", summary.reps >= summary.target_reps ? `Well done. Rest, then the ${other} leg if your programme says so.` : "Rest before the next set.");
  }

  function drawTrace() {
    const canvas = $("trace");
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (!w) return;
    if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
    const g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const css = getComputedStyle(document.documentElement);
    const lo = -40, hi = 150, y = (a) => h - 6 - ((a - lo) / (hi - lo)) * (h - 12);
    g.strokeStyle = css.getPropertyValue("--line"); g.lineWidth = 1;
    g.beginPath(); g.moveTo(0, y(0)); g.lineTo(w, y(0)); g.stroke();
    if (trace.length < 2) return;
    const tEnd = trace[trace.length - 1][0], x = (t) => w - ((tEnd - t) / 30) * w;
    g.strokeStyle = css.getPropertyValue("--trace"); g.lineWidth = 3; g.lineJoin = "round";
    g.beginPath();
    trace.forEach(([t, a], i) => (i ? g.lineTo(x(t), y(Math.max(lo, Math.min(hi, a)))) : g.moveTo(x(t), y(a))));
    g.stroke();
  }
  document.addEventListener("backrep-theme", drawTrace);

  function onEngine(event, message) {
    // Each event once, though a reconnect replays it: by its id (and time, as ids start again
    // when the service does). Not by rep number: a rep taken back is counted again as the same.
    const key = `${message ? message.lastEventId : ""}:${event.kind}:${event.t_s}`;
    if (announced.has(key)) return;
    announced.add(key);
    const target = last ? last.target_reps : 0;
    if (event.kind === "rep_counted") {
      if (!target || event.rep < target) { beep([[880, 0.12]]); say(String(event.rep)); }
      else if (event.rep === target) { beep([[880, 0.12], [660, 0.4]]); say(`${event.rep}. Set complete: rest now.`); }
      // past the dose: counted and shown, never cheered on
    } else if (event.kind === "hold_ended" && event.hold && last && last.hold
               && event.hold.duration_s < last.hold.target_s) {
      beep([[440, 0.2]]); // the hold ended short of its target: a lower tone, no words
    }
  }

  backrep.load("/api/programme").then((p) => { programme = p; renderProgramme(); if (last) render(last); });
  backrep.load("/api/state").then((s) => { backrep.showSensor(s); if (!last) render(s); });
  backrep.live({ state: render, engine: onEngine });
})();

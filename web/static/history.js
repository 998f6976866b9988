// The history page: reps per day over six weeks (hand-drawn SVG), the sets of each day, CSV export.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const names = {};
  const isoDay = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

  function el(tag, attrs, textContent) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (textContent !== undefined) node.textContent = textContent;
    return node;
  }

  function drawChart(data) {
    const svg = $("chart");
    const byDate = Object.fromEntries(data.days.map((d) => [d.date, d]));
    const first = new Date(`${data.from}T12:00:00`);
    const days = [];
    for (let i = 0; i < 42; i++) { const d = new Date(first); d.setDate(first.getDate() + i); days.push(d); }
    const W = 840, H = 220, left = 36, bottom = 28, top = 10;
    const max = Math.max(10, ...data.days.map((d) => d.reps));
    const step = (W - left) / days.length;
    const nodes = [];
    for (const v of [0, Math.round(max / 2), max]) {
      const y = H - bottom - (v / max) * (H - bottom - top);
      nodes.push(el("line", { x1: left, x2: W, y1: y, y2: y, class: "axis" }));
      nodes.push(el("text", { x: left - 6, y: y + 4, "text-anchor": "end" }, String(v)));
    }
    let total = 0;
    days.forEach((d, i) => {
      const day = byDate[isoDay(d)];
      const reps = day ? day.reps : 0;
      total += reps;
      const h = (reps / max) * (H - bottom - top);
      if (reps) {
        const bar = el("rect", { x: left + i * step + 2, y: H - bottom - h, width: step - 4, height: h, rx: 3, class: "bar" });
        bar.appendChild(el("title", {}, `${isoDay(d)}: ${reps} reps in ${day.sets} sets`));
        nodes.push(bar);
      }
      if (d.getDay() === 1) nodes.push(el("text", { x: left + i * step + step / 2, y: H - 8, "text-anchor": "middle" },
                                         d.toLocaleDateString(undefined, { day: "numeric", month: "short" })));
    });
    svg.replaceChildren(...nodes);
    $("chart-total").textContent = `${total} reps in six weeks`;
  }

  function drawSets(sets) {
    const box = $("days");
    $("no-sets").hidden = sets.length > 0;
    const byDay = new Map();
    for (const s of sets) { if (!byDay.has(s.date)) byDay.set(s.date, []); byDay.get(s.date).push(s); }
    const sections = [];
    for (const [date, list] of byDay) {
      const section = document.createElement("section");
      section.className = "day"; section.dataset.date = date;
      const h = document.createElement("h3");
      const reps = list.reduce((n, s) => n + s.reps, 0);
      h.textContent = `${new Date(`${date}T12:00:00`).toLocaleDateString(undefined, { weekday: "long", day: "numeric", month: "long" })} · ${list.length} ${list.length === 1 ? "set" : "sets"} · ${reps} ${reps === 1 ? "rep" : "reps"}`;
      section.appendChild(h);
      for (const s of list) {
        const row = document.createElement("div");
        row.className = "set"; row.dataset.setId = s.id;
        const time = new Date(s.started_at).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
        const cells = [
          [`${time} ${names[s.exercise] || s.exercise}`, ""],
          [`${s.leg}`, ""],
          [`${s.reps} / ${s.target_reps}`, "num set-reps"],
          [s.holds.length ? "holds " + s.holds.map((x) => `${x.duration_s.toFixed(1)} s`).join(", ") : "", "num muted"],
        ];
        for (const [t, cls] of cells) { const c = document.createElement("span"); c.textContent = t; c.className = cls; row.appendChild(c); }
        if (s.status !== "closed") {
          const badge = document.createElement("span");
          badge.className = `status-${s.status}`;
          badge.textContent = s.status === "open" ? " under way" : " interrupted";
          row.children[2].appendChild(badge);
        }
        section.appendChild(row);
      }
      sections.push(section);
    }
    box.replaceChildren(...sections);
  }

  async function refresh() {
    const from = new Date(); from.setDate(from.getDate() - 41);
    const [days, sessions] = await Promise.all([
      backrep.load("/api/sessions/days?weeks=6"),
      backrep.load(`/api/sessions?from=${isoDay(from)}`),
    ]);
    drawChart(days);
    drawSets(sessions.sets);
  }
  let pending = null;
  const soon = () => { clearTimeout(pending); pending = setTimeout(refresh, 250); };

  const today = new Date(), monthAgo = new Date();
  monthAgo.setDate(today.getDate() - 27);
  $("export-from").value = isoDay(monthAgo);
  $("export-to").value = isoDay(today);

  // The export needs this tablet's token, which a plain form download cannot send.
  $("export").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("export-error").hidden = true;
    try {
      const response = await backrep.request(`${$("export").action}?${new URLSearchParams(new FormData($("export")))}`);
      if (!response.ok) {
        const data = await response.json().catch(() => ({}));
        throw new Error(data.error || `HTTP ${response.status}`);
      }
      const blob = await response.blob();
      const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = match ? match[1] : "backrep.csv";
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (err) {
      $("export-error").hidden = false;
      $("export-error").textContent = err.message;
    }
  });

  backrep.load("/api/programme").then((p) => { for (const e of p.exercises) names[e.id] = e.name; refresh(); });
  backrep.live({
    set_started: soon, set_ended: soon,
    engine: (e) => { if (e.kind === "rep_counted" || e.kind === "hold_ended") soon(); },
  });
})();

// The stretch coach dashboard: live through /events, polling /status when the stream is down.
// Plain JS, no build step. The countdown is interpolated locally between status events so the
// ring moves smoothly even when the coach publishes once a second.
"use strict";

(() => {
  const RING_CIRCUMFERENCE = 2 * Math.PI * 45; // r=45 in index.html
  const POLL_MS = 1000;
  const RECONNECT_MS = 10000; // after the server refused the stream (e.g. 503: too many)
  const TOKEN_KEY = "stretch-coach-token";

  const $ = (id) => document.getElementById(id);
  const el = {
    routine: $("routine"), stretch: $("stretch"), side: $("side"), stepCount: $("step-count"),
    connection: $("connection"), ringBar: $("ring-bar"), countdown: $("countdown"),
    countdownLabel: $("countdown-label"), stepText: $("step-text"), paused: $("ind-paused"),
    listening: $("ind-listening"), speaking: $("ind-speaking"), lastHeard: $("last-heard"),
    lastSaid: $("last-said"), progress: $("progress"), progressBar: $("progress-bar"),
    reply: $("reply"), tokenForm: $("token-form"), tokenInput: $("token-input"),
    history: $("history"), streak: $("streak"), sessions: $("sessions"),
  };

  let status = {};
  let statusAt = performance.now(); // when `status` arrived, for the local countdown
  let pollTimer = null;
  let source = null;
  let lastState = null;

  el.ringBar.setAttribute("stroke-dasharray", RING_CIRCUMFERENCE.toFixed(2));

  // --- rendering -------------------------------------------------------------------------
  function remainingNow() {
    if (status.remaining_seconds == null) return null;
    if (status.paused) return status.remaining_seconds;
    const elapsed = (performance.now() - statusAt) / 1000;
    return Math.max(0, status.remaining_seconds - elapsed);
  }

  function renderRing() {
    const remaining = remainingNow();
    const hold = status.hold_seconds;
    let fraction = 0;
    if (remaining != null && hold) {
      fraction = Math.min(1, remaining / hold);
      el.countdown.textContent = String(Math.ceil(remaining));
      el.countdownLabel.textContent = status.paused ? "paused" : "hold";
    } else {
      el.countdown.textContent = status.step ? String(status.step) : "–";
      el.countdownLabel.textContent = labelFor(status);
      fraction = status.state === "done" ? 1 : 0;
    }
    el.ringBar.setAttribute("stroke-dashoffset", (RING_CIRCUMFERENCE * (1 - fraction)).toFixed(2));
  }

  function labelFor(s) {
    if (s.state === "done") return "done";
    if (s.step) return "step";
    return s.state || "idle";
  }

  function text(node, value, fallback = "") {
    node.textContent = value == null || value === "" ? fallback : String(value);
  }

  function flag(node, on) {
    node.dataset.on = on ? "true" : "false";
  }

  function render() {
    const s = status;
    const running = Boolean(s.routine);
    text(el.routine, s.routine_name || s.routine, running ? "" : "No routine running");
    text(el.stretch, s.stretch_name || s.stretch,
      s.state === "done" ? "Routine complete. Well done." : "Say “start the quick routine”");
    el.side.hidden = !s.side;
    text(el.side, s.side ? `${s.side} side` : "");
    text(el.stepCount, s.step && s.step_count ? `Step ${s.step} of ${s.step_count}` : "");
    text(el.stepText, s.step_text);
    flag(el.paused, s.paused);
    flag(el.listening, s.listening);
    flag(el.speaking, s.speaking);
    document.body.dataset.paused = s.paused ? "true" : "false";
    text(el.lastHeard, s.last_heard, "–");
    if (s.last_said) text(el.lastSaid, `Coach: ${s.last_said}`);
    const pct = Math.round(100 * Math.max(0, Math.min(1, Number(s.progress) || 0)));
    el.progressBar.style.width = `${pct}%`;
    el.progress.setAttribute("aria-valuenow", String(pct));
    renderRing();
    if (s.state !== lastState && (s.state === "done" || s.state === "idle")) loadHistory();
    lastState = s.state;
  }

  function applyStatus(data) {
    status = Object.assign({}, status, data); // events may omit keys /status adds (uptime…)
    statusAt = performance.now();
    render();
  }

  // --- live updates ------------------------------------------------------------------------
  function setConnection(state) {
    el.connection.dataset.state = state;
    el.connection.textContent = state;
  }

  function startPolling() {
    if (pollTimer) return;
    setConnection("polling");
    const poll = async () => {
      try {
        const r = await fetch("/status", { cache: "no-store" });
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        const data = await r.json();
        if (!pollTimer) return; // the stream opened meanwhile; it is fresher
        applyStatus(data);
        setConnection("polling");
      } catch (err) {
        if (pollTimer) setConnection("offline");
      }
    };
    pollTimer = setInterval(poll, POLL_MS);
    poll();
  }

  function stopPolling() {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  }

  function connect() {
    if (!("EventSource" in window)) { startPolling(); return; }
    source = new EventSource("/events");
    source.addEventListener("open", () => { stopPolling(); setConnection("live"); });
    source.addEventListener("status", (e) => applyStatus(JSON.parse(e.data)));
    source.addEventListener("heard", (e) => {
      const d = JSON.parse(e.data);
      applyStatus({ last_heard: d.text, last_intent: d.intent });
    });
    source.addEventListener("said", (e) => text(el.lastSaid, `Coach: ${JSON.parse(e.data).text}`));
    source.addEventListener("error", () => {
      // The browser retries by itself while readyState is CONNECTING; poll meanwhile.
      startPolling();
      if (source.readyState === EventSource.CLOSED) {
        source = null;
        setTimeout(connect, RECONNECT_MS);
      }
    });
  }

  // --- commands ----------------------------------------------------------------------------
  function authHeaders() {
    const token = localStorage.getItem(TOKEN_KEY);
    return token ? { Authorization: `Bearer ${token}` } : {};
  }

  async function sendCommand(commandText) {
    text(el.reply, "…");
    try {
      const r = await fetch("/command", {
        method: "POST",
        headers: Object.assign({ "Content-Type": "application/json" }, authHeaders()),
        body: JSON.stringify({ text: commandText }),
      });
      const body = await r.json().catch(() => ({}));
      if (r.status === 401) {
        el.tokenForm.hidden = false;
        el.tokenInput.focus();
        text(el.reply, "Enter the coach's token to send commands.");
        return;
      }
      if (!r.ok) { text(el.reply, body.message || `Error ${r.status}`); return; }
      text(el.reply, body.response || (body.intent ? body.intent : "Not understood."));
      if (pollTimer) { // no live stream: fetch the new state now rather than on the next poll
        const s = await fetch("/status", { cache: "no-store" });
        if (s.ok) applyStatus(await s.json());
      }
    } catch (err) {
      text(el.reply, "The coach is not reachable.");
    }
  }

  document.querySelectorAll("button[data-command]").forEach((button) => {
    button.addEventListener("click", () => sendCommand(button.dataset.command));
  });

  el.tokenForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const token = el.tokenInput.value.trim();
    if (token) localStorage.setItem(TOKEN_KEY, token);
    el.tokenInput.value = "";
    el.tokenForm.hidden = true;
    text(el.reply, "Token saved.");
  });

  // A link like http://coach.local:8765/#token=... hands a tablet the token once; the
  // fragment never reaches the server or its logs, and is removed from the address bar.
  function takeTokenFromHash() {
    const m = /^#token=([^&]+)/.exec(location.hash);
    if (!m) return;
    localStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }

  // --- history -----------------------------------------------------------------------------
  async function loadHistory() {
    try {
      const r = await fetch("/history", { cache: "no-store" });
      const h = r.ok ? await r.json() : { kept: false };
      if (!h.kept) { el.history.hidden = true; return; }
      renderHistory(h);
    } catch (err) {
      el.history.hidden = true;
    }
  }

  function renderHistory(h) {
    const sessions = Array.isArray(h.sessions) ? h.sessions.slice(0, 5) : [];
    el.sessions.replaceChildren(...sessions.map((s) => {
      const li = document.createElement("li");
      const when = s.ended_at || s.started_at || "";
      const name = s.routine_name || s.routine || "Routine";
      li.textContent = `${name}${s.completed === false ? " (stopped)" : ""}${when ? ` · ${when}` : ""}`;
      return li;
    }));
    const streak = Number(h.streak_days) || 0;
    text(el.streak, streak > 0 ? `${streak}-day streak` : "");
    el.history.hidden = sessions.length === 0 && streak === 0;
  }

  takeTokenFromHash();
  setInterval(renderRing, 200);
  startPolling(); // until the stream opens; also the first paint
  connect();
  loadHistory();
})();

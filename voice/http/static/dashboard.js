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
    reply: $("reply"), confirm: $("confirm"), tokenForm: $("token-form"), tokenInput: $("token-input"),
    history: $("history"), streak: $("streak"), sessions: $("sessions"),
  };

  let status = {};
  let statusAt = performance.now(); // when status.remaining_seconds arrived, for the countdown
  let pollTimer = null;
  let source = null;
  let lastState = null;
  let segmentKey = null; // which countdown (state, stretch, side) segmentTotal belongs to
  let segmentTotal = null; // longest remaining_seconds seen in it: rest/switch have no hold_seconds

  el.ringBar.setAttribute("stroke-dasharray", RING_CIRCUMFERENCE.toFixed(2));

  // What the ring says under the number, by coach state (idle|intro|instruct|hold|switch|rest|finished).
  const LABELS = {
    idle: "idle", intro: "getting ready", instruct: "step", hold: "hold",
    switch: "switch sides", rest: "rest", finished: "finished",
  };

  // --- rendering -------------------------------------------------------------------------
  function remainingNow() {
    if (status.remaining_seconds == null) return null;
    if (status.paused || waitingForLeadIn()) return status.remaining_seconds;
    // The coach's clock may run faster than the wall clock (--time-scale) when it says so.
    const rate = Number(status.time_scale) > 0 ? Number(status.time_scale) : 1;
    const elapsed = (rate * (performance.now() - statusAt)) / 1000;
    return Math.max(0, status.remaining_seconds - elapsed);
  }

  // A segment's clock starts once its opening line has been spoken ("Hold for 30 seconds."):
  // while the coach speaks with the full time still left, the countdown waits too.
  function waitingForLeadIn() {
    const total = status.hold_seconds || segmentTotal;
    return Boolean(status.speaking) && total != null && status.remaining_seconds >= total;
  }

  function renderRing() {
    const s = status;
    const remaining = remainingNow();
    let fraction = 0;
    if (remaining != null) {
      const total = s.hold_seconds || segmentTotal;
      fraction = total ? Math.min(1, remaining / total) : 0;
      el.countdown.textContent = String(Math.ceil(remaining));
      el.countdownLabel.textContent = s.paused ? "paused" : LABELS[s.state] || s.state;
    } else if (s.state === "instruct" && s.step != null) {
      el.countdown.textContent = String(s.step + 1); // the coach counts steps from 0
      el.countdownLabel.textContent = s.step_count ? `step of ${s.step_count}` : "step";
      fraction = s.step_count ? (s.step + 1) / s.step_count : 0;
    } else {
      el.countdown.textContent = s.state === "finished" ? "✓" : "–";
      el.countdownLabel.textContent = LABELS[s.state] || s.state || "idle";
      fraction = s.state === "finished" ? 1 : 0;
    }
    el.ringBar.setAttribute("stroke-dashoffset", (RING_CIRCUMFERENCE * (1 - fraction)).toFixed(2));
  }

  function capitalized(value) {
    return value ? value.charAt(0).toUpperCase() + value.slice(1) : value;
  }

  function text(node, value, fallback = "") {
    node.textContent = value == null || value === "" ? fallback : String(value);
  }

  function flag(node, on) {
    node.dataset.on = on ? "true" : "false";
  }

  function headline(s) {
    if (s.stretch_name || s.stretch) return capitalized(s.stretch_name || s.stretch);
    if (s.state === "finished") return "Session finished. Well done.";
    if (s.state === "intro") return "Getting ready";
    return "Say “start the quick routine”";
  }

  function stepText(s) {
    // What to do now: the coach's own step text (in a hold, the last step of the stretch);
    // in a rest or a switch it gives none, so name the state.
    if (s.step_text) return s.step_text;
    if (s.state === "switch") return s.side ? `Switch sides: ${s.side} side next.` : "Switch sides.";
    if (s.state === "rest") return "Rest.";
    return "";
  }

  function counts(s) {
    const parts = [];
    if (s.stretch_index != null && s.stretch_count) {
      parts.push(`Stretch ${s.stretch_index + 1} of ${s.stretch_count}`);
    }
    if (s.state === "instruct" && s.step != null && s.step_count) {
      parts.push(`step ${s.step + 1} of ${s.step_count}`);
    }
    return parts.join(" · ");
  }

  function render() {
    const s = status;
    const running = Boolean(s.routine);
    document.body.dataset.state = s.state || "idle";
    text(el.routine, capitalized(s.routine_name || s.routine),
      s.state === "finished" ? "Routine over" : running ? "" : "No routine running");
    text(el.stretch, headline(s));
    el.side.hidden = !s.side;
    text(el.side, s.side ? `${s.side} side` : "");
    text(el.stepCount, counts(s));
    text(el.stepText, stepText(s));
    flag(el.paused, s.paused);
    flag(el.listening, s.listening);
    flag(el.speaking, s.speaking);
    document.body.dataset.paused = s.paused ? "true" : "false";
    el.confirm.hidden = s.awaiting !== "confirm_stop";
    text(el.lastHeard, s.last_heard, "–");
    const pct = Math.round(100 * Math.max(0, Math.min(1, Number(s.progress) || 0)));
    el.progressBar.style.width = `${pct}%`;
    el.progress.setAttribute("aria-valuenow", String(pct));
    renderRing();
    if (s.state !== lastState && (s.state === "finished" || s.state === "idle")) loadHistory();
    lastState = s.state;
  }

  function applyStatus(data) {
    // Events may omit keys /status adds (uptime...); a partial update (what was heard, whether
    // the coach is speaking) keeps the countdown's time base, so the ring does not jump back.
    const wasWaiting = status.remaining_seconds != null && waitingForLeadIn();
    status = Object.assign({}, status, data);
    if (wasWaiting && !("remaining_seconds" in data) && !waitingForLeadIn()) {
      statusAt = performance.now(); // the lead-in line ended: the clock starts now
    }
    if ("remaining_seconds" in data) {
      statusAt = performance.now();
      const key = `${status.state}|${status.stretch_index}|${status.side}`;
      const remaining = status.remaining_seconds;
      if (key !== segmentKey) { segmentKey = key; segmentTotal = remaining; }
      else if (remaining != null) segmentTotal = Math.max(segmentTotal || 0, remaining);
    }
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
    // "speaking" comes when the speaker actually starts a line (text) or ends it (no text);
    // "said" comes when a line is queued, which for the counts of a hold is at its start.
    source.addEventListener("speaking", (e) => {
      const d = JSON.parse(e.data);
      if (d.text) text(el.lastSaid, `Coach: ${d.text}`);
      applyStatus({ speaking: Boolean(d.text) });
    });
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

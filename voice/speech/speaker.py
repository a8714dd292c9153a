"""Speakers: the Speaker protocol on top of a renderer, the cue scheduler and an output.

Two daemon threads per speaker, so no call ever blocks the coach:

* the render thread turns text into PCM (pyttsx3 is not re-entrant, so one thread owns it),
  highest priority and earliest deadline first;
* the player thread asks the scheduler what to play at each moment and hands a cue to the
  output a pre-roll (plus the output's latency) before its deadline, with that deadline as its
  start, so a late wake-up of the thread does not make the count late; it ends lines and
  preempts lower-priority ones.

interrupt() silences the output on the caller's thread at once (the player may not get the
CPU quickly on a busy machine); the player does the bookkeeping.

The listener gets SpeechEvents from the player thread with the audible start and end times
(a cue's "started" can arrive up to the pre-roll before its time); it must return quickly
(hand the event to the runtime's queue).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import queue
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from voice.ports import Clock, SpeechEvent, SpeechListener, Utterance
from voice.speech.outputs import AudioOutput, NullOutput, PlayInfo, PrintOutput, real_seconds
from voice.speech.render import (
    COUNT_WORDS,
    CachedRenderer,
    Pcm,
    Renderer,
    SilentRenderer,
    Voice,
)
from voice.speech.scheduler import CueScheduler, Item, Start

log = logging.getLogger(__name__)

MIN_RATE = 80
MAX_RATE = 400
MAX_SPEEDUP = 1.6  # a cue squeezed into its slot is spoken at most this much faster
# How early (real seconds) a cue is handed to the output, which then places it exactly on its
# deadline: covers the player thread waking late on a busy machine.
PREROLL = 0.1


@dataclass(order=True)
class _RenderJob:
    key: tuple[int, float, int]
    utterance: Utterance | None = dataclasses.field(compare=False)  # None: prewarm only
    text: str = dataclasses.field(compare=False, default="")
    epoch: int = dataclasses.field(compare=False, default=0)
    cue_epoch: int = dataclasses.field(compare=False, default=0)


@dataclass
class _Playing:
    item: Item
    pcm: Pcm
    info: PlayInfo
    end: float  # audible end on the clock
    cut: bool = False
    cut_at: float | None = None  # when interrupt() silenced it


class QueuedSpeaker:
    """Speaker protocol implementation shared by TTS, print and silent modes."""

    def __init__(
        self,
        clock: Clock,
        listener: SpeechListener,
        renderer: Renderer,
        output: AudioOutput,
        voice: Voice | None = None,
        *,
        scheduler: CueScheduler | None = None,
        prewarm: Iterable[str] = COUNT_WORDS,
        name: str = "speech",
        preroll: float = PREROLL,
    ) -> None:
        self._clock = clock
        self._listener = listener
        self._renderer = CachedRenderer(renderer)
        self._output = output
        self._voice = voice if voice is not None else Voice()
        self._sched = scheduler if scheduler is not None else CueScheduler()
        self._prewarm = tuple(prewarm)
        # Clock seconds per real second (above 1 under --time-scale). The pre-roll covers
        # thread wake-up delays and the latency is the card's: both are real seconds.
        self._per_real = 1.0 / max(1e-9, self._real_seconds(1.0))
        self._preroll = preroll * self._per_real
        self._cond = threading.Condition()
        self._jobs: queue.PriorityQueue[_RenderJob] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._pcm: dict[int, Pcm] = {}
        # Deadlines and priorities of cues asked for but not yet queued (still rendering).
        self._announced: dict[int, tuple[float, int]] = {}
        self._playing: _Playing | None = None
        self._epoch = 0
        self._cue_epoch = 0
        self._outstanding = 0  # render jobs for utterances not yet handed to the scheduler
        self._play_index = 0
        self._closed = False
        self._render_failed = False
        self._failures = 0
        self._queue_prewarm()
        self._render_thread = threading.Thread(
            target=self._render_loop, name=f"{name}-render", daemon=True
        )
        self._player_thread = threading.Thread(
            target=self._player_loop, name=f"{name}-player", daemon=True
        )
        self._render_thread.start()
        self._player_thread.start()

    # --- Speaker protocol (called from any thread, never blocks on audio) --------------------

    def say(self, utterance: Utterance) -> None:
        with self._cond:
            if self._closed:
                return
            self._outstanding += 1
            epoch, cue_epoch = self._epoch, self._cue_epoch
            seq = next(self._seq)
            if utterance.at is not None:
                self._announced[seq] = (utterance.at, utterance.priority)
        at = utterance.at if utterance.at is not None else -math.inf
        self._jobs.put(
            _RenderJob((utterance.priority, at, seq), utterance, utterance.text, epoch, cue_epoch)
        )

    def interrupt(self) -> None:
        with self._cond:
            self._epoch += 1
            self._forget(self._sched.interrupt())
            self._announced = {k: v for k, v in self._announced.items() if v[1] == 0}
            self._cut_now()
            self._cond.notify_all()

    def _cut_now(self) -> None:
        """Silence the current line from the calling thread (lock held).

        The player thread may not get the CPU for a while on a busy machine and a stop must be
        quick, so the output is silenced here; the player does the bookkeeping and events.
        """
        playing = self._playing
        if playing is None or playing.cut:
            return
        playing.cut, playing.cut_at = True, self._now()
        try:
            self._output.cut()
        except Exception:
            log.exception("audio output failed to cut")

    def cancel_cues(self) -> None:
        with self._cond:
            self._cue_epoch += 1
            self._forget(self._sched.cancel_cues())
            self._announced.clear()
            self._cond.notify_all()

    def set_rate(self, delta_wpm: int) -> None:
        with self._cond:
            rate = min(MAX_RATE, max(MIN_RATE, self._voice.rate + delta_wpm))
            self._voice = dataclasses.replace(self._voice, rate=rate)
        log.info("speech rate %d wpm", rate)
        self._queue_prewarm()

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._epoch += 1
            self._forget(self._sched.interrupt())
            self._forget(self._sched.cancel_cues())
            self._cut_now()
            self._cond.notify_all()
        self._jobs.put(_RenderJob((-1, -math.inf, -1), None))  # wake the render thread
        self._player_thread.join(timeout=2.0)
        self._render_thread.join(timeout=2.0)
        self._output.close()
        closer = getattr(self._renderer.inner, "close", None)
        if callable(closer):
            closer()

    # --- extras for the runtime, tests and benchmarks ----------------------------------------

    @property
    def rate(self) -> int:
        return self._voice.rate

    @property
    def speaking(self) -> bool:
        with self._cond:
            return self._playing is not None

    @property
    def output(self) -> AudioOutput:
        return self._output

    def alive(self) -> bool:
        """Both worker threads run (the runtime's supervisor polls this)."""
        with self._cond:
            if self._closed:
                return True  # closed on purpose: nothing to restart
        return self._render_thread.is_alive() and self._player_thread.is_alive()

    def restart(self) -> None:
        """Start again whichever worker thread has died (they catch their own faults, so
        this is a last resort for the runtime's supervisor)."""
        with self._cond:
            if self._closed:
                return
        if not self._render_thread.is_alive():
            self._render_thread = threading.Thread(
                target=self._render_loop, name=self._render_thread.name, daemon=True
            )
            self._render_thread.start()
        if not self._player_thread.is_alive():
            self._recover_player()
            self._player_thread = threading.Thread(
                target=self._player_loop, name=self._player_thread.name, daemon=True
            )
            self._player_thread.start()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is rendering, queued or playing (tests, benchmarks, shutdown)."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._outstanding == 0 and self._playing is None and not len(self._sched),
                timeout,
            )

    # --- render thread -----------------------------------------------------------------------

    def _queue_prewarm(self) -> None:
        for text in self._prewarm:
            self._jobs.put(_RenderJob((99, math.inf, next(self._seq)), None, text))

    def _render(self, text: str, voice: Voice) -> Pcm:
        try:
            return self._renderer.render(text, voice)
        except Exception as exc:
            # Keep the session going with correct timing: a silent stand-in of the estimated
            # length still lets the coach hear "started"/"finished" at realistic times.
            if not self._render_failed:
                log.warning("speech rendering failed, continuing silently: %s", exc)
                self._render_failed = True
            return SilentRenderer().render(text, voice)

    def _render_loop(self) -> None:
        while True:
            job = self._jobs.get()
            with self._cond:
                if self._closed:
                    return
                voice = self._voice
            try:
                self._render_job(job, voice)
            except Exception:
                # Supervision: one bad job must not end the thread (the coach would wait for a
                # "finished" that never comes). Report the line as cut and carry on.
                self._thread_failed("render")
                if job.utterance is not None:
                    self._give_up(job.utterance)
            finally:
                if job.utterance is not None:
                    with self._cond:
                        self._outstanding -= 1
                        self._announced.pop(job.key[2], None)
                        self._cond.notify_all()

    def _render_job(self, job: _RenderJob, voice: Voice) -> None:
        if job.utterance is None:
            self._render(job.text, voice)
            return
        u = job.utterance
        with self._cond:
            stale = self._stale(job)
        pcm = None if stale else self._render(u.text, voice)
        if pcm is not None and u.at is not None:
            pcm = self._fit(job, pcm, voice)
        with self._cond:
            # interrupt()/cancel_cues() may have come while rendering: check again.
            if pcm is None or self._stale(job) or self._closed:
                return
            item = self._sched.add(u, self._span(pcm))
            self._pcm[item.seq] = pcm
        if u.at is not None:
            self._refit_previous(u, voice)

    def _thread_failed(self, which: str) -> None:
        self._failures += 1
        if self._failures <= 3 or self._failures % 100 == 0:
            log.warning(
                "speech %s thread failed (failure %d); restarted it", which, self._failures,
                exc_info=True,
            )  # fmt: skip

    def _give_up(self, u: Utterance) -> None:
        """Tell the listener a line that could not be played has come and gone."""
        now = self._now()
        for event in (
            SpeechEvent(u.id, "started", now),
            SpeechEvent(u.id, "finished", now, interrupted=True),
        ):
            self._emit(event)

    def _emit(self, event: SpeechEvent) -> None:
        try:
            self._listener(event)
        except Exception:
            log.exception("speech listener failed")

    def _fit(self, job: _RenderJob, pcm: Pcm, voice: Voice) -> Pcm:
        """Render a cue faster when it is too long for its slot, rather than cutting a word.

        The slot counts cues still being rendered; one that arrives later narrows the slot of
        the cue before it, which `_refit_previous` handles.
        """
        u = job.utterance
        assert u is not None and u.at is not None
        with self._cond:
            others = [v for k, v in self._announced.items() if k != job.key[2]]
            room = self._sched.room(u.at, u.priority, others)
        return self._faster(u.text, pcm, room, voice)

    def _faster(self, text: str, pcm: Pcm, room: float, voice: Voice) -> Pcm:
        span = self._span(pcm)
        if span <= room or room < self._sched.min_play:
            return pcm
        rate = min(MAX_RATE, int(math.ceil(voice.rate * span / room * 1.05)))
        rate = min(rate, int(voice.rate * MAX_SPEEDUP))
        if rate <= voice.rate:
            return pcm
        faster = self._render(text, dataclasses.replace(voice, rate=rate))
        log.debug("%r rendered at %d wpm to fit %.2f s", text, rate, room)
        return faster if faster.duration < pcm.duration else pcm

    def _refit_previous(self, u: Utterance, voice: Voice) -> None:
        """A new cue may leave the queued cue before it too little room: re-render that one."""
        assert u.at is not None
        with self._cond:
            prev = self._sched.previous_cue(u.at, u.priority)
            if prev is None or prev.at is None or prev.seq not in self._pcm:
                return
            room = self._sched.room(prev.at, prev.priority, self._announced.values())
            pcm = self._pcm[prev.seq]
        faster = self._faster(prev.utterance.text, pcm, room, voice)
        if faster is pcm:
            return
        with self._cond:
            if self._sched.update_duration(prev, self._span(faster)):
                self._pcm[prev.seq] = faster

    def _stale(self, job: _RenderJob) -> bool:
        """Asked for before an interrupt (safety lines survive) or a cancel_cues (cues only)."""
        u = job.utterance
        if u is None:
            return False
        if u.priority != 0 and job.epoch != self._epoch:
            return True
        return u.at is not None and job.cue_epoch != self._cue_epoch

    # --- player thread -----------------------------------------------------------------------

    def _forget(self, dropped: Iterable[object]) -> None:
        for d in dropped:
            item = getattr(d, "item", None)
            if isinstance(item, Item):
                self._pcm.pop(item.seq, None)
                log.debug("dropped %r (%s)", item.utterance.text, getattr(d, "reason", "?"))

    def _now(self) -> float:
        return self._clock.now() + self._output.latency * self._per_real

    def _wait_until(self, deadline: float | None) -> None:
        """Wait on the condition (lock held) until `deadline` (audible time) or a notify."""
        if deadline is None:
            self._cond.wait()
            return
        remaining = deadline - self._now()
        if remaining > 0:
            self._cond.wait(self._real_seconds(remaining))

    def _real_seconds(self, clock_seconds: float) -> float:
        return real_seconds(self._clock, clock_seconds)

    def _span(self, pcm: Pcm) -> float:
        """Clock seconds `pcm` occupies when played.

        A demo clock (--time-scale) runs faster than the wall clock. Files and printing follow
        the clock, so their speech is compressed with the session; a sound card plays in real
        time, so a line there lasts F times its length on the clock, and the scheduler and the
        "speaking" events must say so (the self-hearing guard trusts them).
        """
        return pcm.duration * self._per_real if self._output.realtime else pcm.duration

    def _player_loop(self) -> None:
        while True:
            try:
                if not self._player_step():
                    return
            except Exception:
                self._thread_failed("player")
                self._recover_player()
                time.sleep(0.05)  # a persistent fault must not spin the CPU

    def _recover_player(self) -> None:
        """After a fault: end the current line as cut, so the listener is not left waiting."""
        with self._cond:
            playing, self._playing = self._playing, None
            if playing is not None:
                self._pcm.pop(playing.item.seq, None)
            self._cond.notify_all()
        if playing is not None:
            try:
                self._output.cut()
            except Exception:
                log.exception("audio output failed to cut")
            self._emit(SpeechEvent(playing.item.utterance.id, "finished", self._now(), True))

    def _player_step(self) -> bool:
        """One decision of the player thread; False when the speaker is closed."""
        events: list[SpeechEvent] = []
        with self._cond:
            if self._closed and self._playing is None:
                return False
            self._forget(self._sched.drain_dropped())
            now = self._now()
            playing = self._playing
            if playing is None:
                # Look `preroll` ahead: a cue due by then is handed to the output now with
                # its exact audible start, so a late thread wake-up (a busy CPU, the GIL)
                # does not make the count late; only a wake-up later than preroll would.
                decision = self._sched.next(now, self._preroll)
                self._forget(self._sched.drain_dropped())
                if isinstance(decision, Start):
                    events.append(self._begin(decision, decision.start))
                else:
                    self._cond.notify_all()  # wake wait_idle()
                    self._wait_until(decision.until)
                    return True
            else:
                look = now + self._preroll
                preempt = self._sched.should_cut(playing.item, now, self._preroll)
                if playing.cut or preempt or now >= playing.end:
                    end = now if playing.cut_at is None else min(now, playing.cut_at)
                    if preempt and not self._sched.should_cut(playing.item, now):
                        # A cue will be due within the pre-roll: cut this line where the
                        # cue begins, and let the cue be handed over on time.
                        end = min(self._sched.next_preempt_time(playing.item, now) or now, look)
                    events.append(self._finish(playing, end, playing.cut or preempt, preempt))
                    self._cond.notify_all()
                else:
                    nxt = self._sched.next_preempt_time(playing.item, now)
                    if nxt is None:
                        self._wait_until(playing.end)
                    else:
                        self._wait_until(min(nxt - self._preroll, playing.end))
                    return True
        for event in events:
            self._emit(event)
        return True

    def _begin(self, decision: Start, start: float) -> SpeechEvent:
        """Hand the item to the output to be heard from `start` (now, or a cue's deadline)."""
        item = decision.item
        pcm = self._pcm[item.seq]
        self._play_index += 1
        info = PlayInfo(
            self._play_index, item.utterance, start, decision.max_duration, self._span(pcm),
            handed_over=self._now(),
        )  # fmt: skip
        self._playing = _Playing(item, pcm, info, start + decision.max_duration)
        log.debug(
            "play #%d %r at %.3f for %.3f/%.3f s (now %.3f)",
            info.index, item.utterance.text[:40], start, decision.max_duration, info.duration,
            info.handed_over,
        )  # fmt: skip
        try:
            self._output.start(pcm, info)
        except Exception:
            log.exception("audio output failed to start %r", item.utterance.text)
        return SpeechEvent(item.utterance.id, "started", start)

    def _finish(self, p: _Playing, now: float, interrupted: bool, preempted: bool) -> SpeechEvent:
        played = min(p.info.max_duration, max(0.0, now - p.info.started))
        try:
            self._output.end(p.info, played, interrupted)
        except Exception:
            log.exception("audio output failed to end %r", p.item.utterance.text)
        self._playing = None
        self._sched.played(now)
        if preempted and not self._closed and self._sched.requeue(p.item):
            pass  # keep its PCM: it will be replayed whole
        else:
            self._pcm.pop(p.item.seq, None)
        return SpeechEvent(p.item.utterance.id, "finished", now, interrupted=interrupted)


class TtsSpeaker(QueuedSpeaker):
    """Speaks with pyttsx3 (espeak-ng), rendering each line before it plays."""

    def __init__(
        self,
        clock: Clock,
        listener: SpeechListener,
        output: AudioOutput,
        *,
        rate: int = 175,
        volume: float = 1.0,
        voice: str | None = None,
        renderer: Renderer | None = None,
        scheduler: CueScheduler | None = None,
        prewarm: Iterable[str] = COUNT_WORDS,
    ) -> None:
        if renderer is None:
            from voice.speech.render import Pyttsx3Renderer

            renderer = Pyttsx3Renderer()
        super().__init__(
            clock,
            listener,
            renderer,
            output,
            Voice(rate, volume, voice),
            scheduler=scheduler,
            prewarm=prewarm,
            name="tts",
        )


class PrintSpeaker(QueuedSpeaker):
    """--no-tts: prints each line when it would be spoken; durations estimated from words."""

    def __init__(
        self,
        clock: Clock,
        listener: SpeechListener,
        *,
        rate: int = 175,
        output: AudioOutput | None = None,
        scheduler: CueScheduler | None = None,
    ) -> None:
        super().__init__(
            clock,
            listener,
            SilentRenderer(),
            output if output is not None else PrintOutput(),
            Voice(rate),
            scheduler=scheduler,
            prewarm=(),
            name="print",
        )


class SilentSpeaker(PrintSpeaker):
    """mode "none": nothing printed or played, but started/finished still come on time."""

    def __init__(self, clock: Clock, listener: SpeechListener, *, rate: int = 175) -> None:
        super().__init__(clock, listener, rate=rate, output=NullOutput())

"""Prometheus metrics for the coach, in a registry of their own.

A private CollectorRegistry (not the process-global default) keeps two apps in one test run,
or a coach and a library that also uses prometheus_client, from colliding on names.
The runtime calls the observe_* methods; GET /metrics renders `render()`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Recognition: end of speech to final result. Commands: the whole command() call.
_RECOGNITION_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)
_COMMAND_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)

NO_INTENT = "none"  # label for utterances that matched no intent


class Metrics:
    """Counters and histograms the runtime feeds; one instance per coach process."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.utterances_heard = Counter(
            "stretch_coach_utterances_heard", "Final recognition results accepted", registry=r
        )
        self.intents = Counter(
            "stretch_coach_intents",
            "Handled utterances by intent (none: no match) and source (voice or http)",
            ["intent", "source"],
            registry=r,
        )
        self.rejected_results = Counter(
            "stretch_coach_rejected_results",
            "Recognition results rejected (low confidence, out of grammar, echo of own speech)",
            registry=r,
        )
        self.sessions_completed = Counter(
            "stretch_coach_sessions_completed", "Routines run to the end", registry=r
        )
        self.recognition_latency = Histogram(
            "stretch_coach_recognition_latency_seconds",
            "End of speech to final recognition result",
            buckets=_RECOGNITION_BUCKETS,
            registry=r,
        )
        self.command_latency = Histogram(
            "stretch_coach_command_latency_seconds",
            "Time to handle one command (POST /command or a spoken one), reply included",
            buckets=_COMMAND_BUCKETS,
            registry=r,
        )
        self.event_streams = Gauge(
            "stretch_coach_event_streams", "Open /events streams", registry=r
        )

    def observe_heard(
        self,
        intent: str | None,
        recognition_seconds: float | None = None,
        command_seconds: float | None = None,
    ) -> None:
        """A spoken utterance was accepted and handled; intent None when nothing matched."""
        self.utterances_heard.inc()
        self.intents.labels(intent=intent or NO_INTENT, source="voice").inc()
        if recognition_seconds is not None:
            self.recognition_latency.observe(max(0.0, recognition_seconds))
        if command_seconds is not None:
            self.command_latency.observe(max(0.0, command_seconds))

    def observe_rejected(self) -> None:
        """A recognition result was thrown away before intent matching."""
        self.rejected_results.inc()

    def observe_session_completed(self) -> None:
        self.sessions_completed.inc()

    def observe_command(self, seconds: float, intent: str | None) -> None:
        """POST /command handled (the app calls this; the runtime need not)."""
        self.command_latency.observe(max(0.0, seconds))
        self.intents.labels(intent=intent or NO_INTENT, source="http").inc()

    def render(self) -> bytes:
        """Prometheus text exposition format."""
        return generate_latest(self.registry)

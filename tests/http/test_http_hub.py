"""EventHub: fan-out, bounded queues that drop the oldest, limits, close, SSE framing."""

from __future__ import annotations

import json
import threading
import time

import pytest

from voice.http.hub import EventHub, HubClosed, HubFull


def test_every_subscriber_gets_every_event_in_order() -> None:
    hub = EventHub()
    a, b = hub.subscribe(), hub.subscribe()
    hub.publish("status", {"n": 1})
    hub.publish("heard", {"text": "pause"})
    for sub in (a, b):
        first, second = sub.get(0.1), sub.get(0.1)
        assert first is not None and second is not None
        assert (first.kind, first.data, second.kind) == ("status", {"n": 1}, "heard")
        assert second.id == first.id + 1
        assert sub.get(0.01) is None


def test_publish_copies_the_data() -> None:
    hub = EventHub()
    sub = hub.subscribe()
    data = {"n": 1}
    hub.publish("status", data)
    data["n"] = 2
    event = sub.get(0.1)
    assert event is not None and event.data == {"n": 1}


def test_slow_subscriber_drops_oldest_and_never_blocks_publish() -> None:
    hub = EventHub(queue_size=4)
    slow = hub.subscribe()
    started = time.perf_counter()
    for n in range(1000):
        hub.publish("status", {"n": n})
    assert time.perf_counter() - started < 1.0
    got = [e.data["n"] for e in iter(lambda: slow.get(0.0), None)]
    assert got == [996, 997, 998, 999]
    assert slow.dropped == 996 and hub.dropped == 996


def test_get_times_out_with_none() -> None:
    sub = EventHub().subscribe()
    started = time.monotonic()
    assert sub.get(0.05) is None
    assert time.monotonic() - started >= 0.04


def test_get_wakes_when_an_event_is_published() -> None:
    hub = EventHub()
    sub = hub.subscribe()
    timer = threading.Timer(0.05, hub.publish, args=("said", {"text": "hold"}))
    timer.start()
    event = sub.get(5.0)
    timer.join()
    assert event is not None and event.kind == "said"


def test_max_subscribers_and_unsubscribe() -> None:
    hub = EventHub(max_subscribers=2)
    a = hub.subscribe()
    with hub.subscribe():
        assert hub.subscriber_count == 2
        with pytest.raises(HubFull):
            hub.subscribe()
    assert hub.subscriber_count == 1
    a.close()
    a.close()  # twice is harmless
    assert hub.subscriber_count == 0


def test_unsubscribed_queue_gets_nothing_more() -> None:
    hub = EventHub()
    sub = hub.subscribe()
    sub.close()
    hub.publish("status", {})
    assert sub.get(0.0) is None and sub.closed


def test_close_ends_streams_and_refuses_new_subscribers() -> None:
    hub = EventHub()
    sub = hub.subscribe()
    seen: list[object] = []
    reader = threading.Thread(target=lambda: seen.extend(sub.stream(10.0, 60.0)))
    reader.start()
    time.sleep(0.05)
    hub.close()
    reader.join(2.0)
    assert not reader.is_alive()
    with pytest.raises(HubClosed):
        hub.subscribe()


def test_stream_yields_none_as_heartbeat_and_stops_at_max_seconds() -> None:
    sub = EventHub().subscribe()
    started = time.monotonic()
    items = list(sub.stream(heartbeat=0.02, max_seconds=0.1))
    assert 0.09 <= time.monotonic() - started < 1.0
    assert items and all(item is None for item in items)


def test_concurrent_publishers_lose_nothing_when_queues_are_big_enough() -> None:
    hub = EventHub(queue_size=10_000)
    sub = hub.subscribe()
    threads = [
        threading.Thread(target=lambda t=t: [hub.publish("status", {"t": t}) for _ in range(500)])
        for t in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [e.id for e in iter(lambda: sub.get(0.0), None)]
    assert len(ids) == 2000 and len(set(ids)) == 2000 and hub.published == 2000


def test_sse_framing_is_one_message() -> None:
    event = EventHub().publish("said", {"text": "line one\nline two", "at": 1.5})
    text = event.to_sse()
    assert text.endswith("\n\n") and text.count("\n\n") == 1
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == f"id: {event.id}" and lines[1] == "event: said"
    assert json.loads(lines[2].removeprefix("data: ")) == {"text": "line one\nline two", "at": 1.5}

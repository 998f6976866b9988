"""SSE framing by exact strings, and the hub's ids, replay ring and slow-client handling."""
from __future__ import annotations

import pytest

from backrep.live import LiveHub
from web.sse import format_json_event, format_sse


def test_data_only():
    assert format_sse("hello") == "data: hello\n\n"


def test_every_field_in_order():
    assert format_sse("x", event="state", id=7, retry_ms=2000) == "event: state\nid: 7\nretry: 2000\ndata: x\n\n"


def test_multiline_data_becomes_several_data_lines():
    assert format_sse("a\nb\r\nc\rd") == "data: a\ndata: b\ndata: c\ndata: d\n\n"


def test_comment_is_a_heartbeat_the_browser_ignores():
    assert format_sse(comment="heartbeat") == ": heartbeat\n\n"
    assert format_sse(comment="backrep live", retry_ms=2000) == ": backrep live\nretry: 2000\n\n"


def test_json_event_is_compact_and_one_line():
    assert format_json_event({"reps": 3, "hold": {"active": True}}, event="engine", id=12) == \
        'event: engine\nid: 12\ndata: {"reps":3,"hold":{"active":true}}\n\n'
    assert format_json_event({"reps": 3}, event=None, id=None) == 'data: {"reps":3}\n\n'


@pytest.mark.parametrize("bad", [dict(event="a\nb"), dict(id="1\n2")])
def test_line_breaks_in_event_or_id_are_refused(bad):
    with pytest.raises(ValueError):
        format_sse("x", **bad)


def test_an_empty_message_is_refused():
    with pytest.raises(ValueError):
        format_sse()


def _drain(listener):
    out = []
    while not listener.queue.empty():
        out.append(listener.queue.get_nowait())
    return out


def test_ids_increase_and_a_new_client_gets_the_current_state_first():
    hub = LiveHub()
    assert hub.publish("state", {"reps": 1}) == 1
    assert hub.publish("engine", {"kind": "rep_counted"}) == 2
    listener = hub.subscribe()
    assert _drain(listener) == ['id: 2\ndata: {"reps":1}\n\n']


def test_the_state_goes_out_as_plain_messages_and_named_events_only_to_who_asks():
    # shared/interfaces.md: the stream carries the state. A standard client's ``onmessage``
    # sees only unnamed messages, and one reading every ``data:`` line must find only states.
    hub = LiveHub()
    plain, everything = hub.subscribe(), hub.subscribe(events=frozenset({"engine", "set_ended"}))
    hub.publish("state", {"reps": 1})
    hub.publish("engine", {"kind": "rep_counted"})
    hub.publish("set_ended", {"reps": 1})
    hub.repeat_state({"reps": 1})
    assert _drain(plain) == ['id: 1\ndata: {"reps":1}\n\n', 'data: {"reps":1}\n\n']
    assert _drain(everything) == ['id: 1\ndata: {"reps":1}\n\n', 'event: engine\nid: 2\ndata: {"kind":"rep_counted"}\n\n',
                                  'event: set_ended\nid: 3\ndata: {"reps":1}\n\n', 'data: {"reps":1}\n\n']
    # and reconnecting, each gets what it missed of what it takes
    assert _drain(hub.subscribe(last_event_id=1)) == []
    assert len(_drain(hub.subscribe(last_event_id=1, events=frozenset({"engine"})))) == 1


def test_reconnecting_client_gets_exactly_what_it_missed():
    hub = LiveHub(ring_size=8)
    for n in range(5):
        hub.publish("state", {"reps": n})
    listener = hub.subscribe(last_event_id=3)
    assert _drain(listener) == ['id: 4\ndata: {"reps":3}\n\n',
                                'id: 5\ndata: {"reps":4}\n\n']
    up_to_date = hub.subscribe(last_event_id=5)
    assert _drain(up_to_date) == []


def test_a_client_older_than_the_ring_gets_the_current_state():
    hub = LiveHub(ring_size=3)
    for n in range(10):
        hub.publish("state", {"reps": n})
    listener = hub.subscribe(last_event_id=2)
    assert _drain(listener) == ['id: 10\ndata: {"reps":9}\n\n']


def test_a_client_that_missed_more_than_its_queue_holds_gets_the_current_state_not_a_cut_backlog():
    hub = LiveHub(ring_size=128, queue_size=4)
    for n in range(10):
        hub.publish("state", {"reps": n})
    assert _drain(hub.subscribe(last_event_id=2)) == ['id: 10\ndata: {"reps":9}\n\n']
    assert len(_drain(hub.subscribe(last_event_id=6))) == 4


def test_slow_client_is_dropped_without_blocking_the_publisher():
    hub = LiveHub(queue_size=3)
    slow = hub.subscribe()
    for n in range(10):
        hub.publish("state", {"reps": n})  # would hang here if publishing waited for the client
    assert slow.dropped and hub.listener_count == 0 and hub.dropped_total == 1
    assert hub.state() == {"reps": 9}


def test_listener_limit_and_close_all():
    hub = LiveHub(max_listeners=2)
    a, b = hub.subscribe(), hub.subscribe()
    assert hub.subscribe() is None
    hub.unsubscribe(a)
    c = hub.subscribe()
    assert c is not None
    hub.close_all()
    assert b.dropped and c.dropped and hub.listener_count == 0
    assert _drain(b) == [None]


def test_a_client_that_leaves_messages_waiting_is_dropped_and_its_connection_closed():
    import time as _time

    hub = LiveHub(stale_s=0.1)
    closed = []
    reader, stopped = hub.subscribe(name="reading"), hub.subscribe(name="stopped")
    stopped.on_drop = lambda: closed.append(True)
    hub.publish("state", {"n": 1})
    reader.queue.get_nowait()                  # this one keeps up
    _time.sleep(0.15)
    hub.publish("state", {"n": 2})
    assert stopped.dropped and closed == [True]
    assert not reader.dropped and reader.queue.get_nowait()
    assert hub.dropped_total == 1


def test_a_new_client_is_not_dropped_for_a_publish_before_its_stream_has_started():
    """A new client's queue starts with the current state; a publish in the moment before its
    worker starts reading must not count as having waited since the machine booted."""
    hub = LiveHub(stale_s=30.0)
    hub.set_state({"reps": 0})
    listener = hub.subscribe(name="tablet")
    hub.set_state({"reps": 1})           # the worker has not taken the backlog yet
    assert not listener.dropped and hub.dropped_total == 0
    assert [m.split("\n")[0] for m in _drain(listener)] == ["id: 1", "id: 2"]

"""The live state hub between the sensor loop and the web: latest state plus a fan-out of events.

The state goes out as the stream's plain (unnamed) messages, which is all ``/api/events``
carries unless a client asks for the named ``engine``, ``set_started`` and ``set_ended`` events
too (the dashboard does): a standard SSE client's ``onmessage`` gets the state, and nothing else.

The sensor loop calls ``publish``/``set_state``; those never block. Each SSE client owns a
bounded queue: when a client cannot keep up its queue fills, and the client is dropped (its
stream ends, the browser reconnects with ``Last-Event-ID``), never the sensor loop. A short ring
of recent messages is replayed to a reconnecting client so it misses nothing that happened
while it was away, as long as it comes back within the ring's span.
"""
from __future__ import annotations

import copy
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from web.sse import format_json_event

log = logging.getLogger(__name__)

#: The state's event name inside the hub; on the wire it is the unnamed default.
STATE = "state"


def _wants(listener: "Listener", event: str) -> bool:
    return event == STATE or event in listener.events


@dataclass(eq=False)
class Listener:
    """One SSE client: its bounded queue of framed messages, and whether it was dropped."""

    queue: "queue.Queue[str | None]"
    dropped: bool = False
    name: str = field(default="")
    #: The named events it takes besides the state.
    events: frozenset[str] = frozenset()
    #: Called once when the hub drops this client for being too slow: the web server closes
    #: the connection, or its worker would stay blocked writing to a tablet that stopped reading.
    on_drop: Callable[[], None] | None = None
    #: When its queue last went from empty to waiting (monotonic seconds). A new client's
    #: queue starts with its backlog, so this starts at its subscription, not at boot.
    waiting_since_mono: float = field(default_factory=time.monotonic)


class LiveHub:
    """Latest state, event ids, the replay ring and the listeners; safe to use from any thread."""

    def __init__(self, ring_size: int = 128, queue_size: int = 64, max_listeners: int = 8,
                 stale_s: float = 30.0) -> None:
        #: A client that leaves messages waiting this long is dropped (it reconnects with
        #: Last-Event-ID and gets what it missed from the ring).
        self.stale_s = stale_s
        self._lock = threading.Lock()
        self._next_id = 1
        self._ring: deque[tuple[int, str, str]] = deque(maxlen=ring_size)   # id, event, framed
        self._listeners: set[Listener] = set()
        self._queue_size = queue_size
        self.max_listeners = max_listeners
        self._state: dict = {}
        self.dropped_total = 0

    # -- the sensor loop's side -------------------------------------------------------------
    def publish(self, event: str, payload: dict) -> int:
        """Frame ``payload`` as SSE event ``event`` with the next id and offer it to everyone."""
        with self._lock:
            event_id = self._next_id
            self._next_id += 1
            message = format_json_event(payload, event=None if event == STATE else event, id=event_id)
            self._ring.append((event_id, event, message))
            for listener in list(self._listeners):
                if _wants(listener, event):
                    self._offer(listener, message)
            if event == STATE:
                self._state = payload
        return event_id

    def repeat_state(self, state: dict) -> None:
        """Offer an unchanged ``state`` again, with no id and not into the ring: the steady push
        is how a tablet that stopped reading is found out (its queue fills), but ten repeats a
        second in the ring pushed a reconnecting tablet's missed reps out of it in 25 s."""
        with self._lock:
            message = format_json_event(state, event=None, id=None)
            for listener in list(self._listeners):
                self._offer(listener, message)
            self._state = state

    def set_state(self, state: dict) -> int:
        """Replace the latest state and push it as a ``state`` event."""
        return self.publish(STATE, state)

    def _offer(self, listener: Listener, message: str) -> None:
        now = time.monotonic()
        if listener.queue.empty():
            listener.waiting_since_mono = now
        waited_s = now - listener.waiting_since_mono
        if waited_s > self.stale_s:
            # It has not emptied its queue for seconds: a tablet that stopped reading
            # (its writes are blocked), however slowly events come.
            self._drop(listener, f"messages waiting for {waited_s:.0f} s")
            return
        try:
            listener.queue.put_nowait(message)
        except queue.Full:
            self._drop(listener, f"queue of {self._queue_size} full")

    def _drop(self, listener: Listener, why: str) -> None:
        """The client is too slow: drop it rather than wait. Its generator sees the flag."""
        listener.dropped = True
        self._listeners.discard(listener)
        self.dropped_total += 1
        log.warning("dropped a slow live client %s (%s)", listener.name, why)
        if listener.on_drop is not None:
            try:
                listener.on_drop()
            except Exception:   # closing a connection that is already gone is no error
                log.debug("closing a dropped client's connection failed", exc_info=True)

    # -- the web's side ---------------------------------------------------------------------
    def state(self) -> dict:
        """A copy of the latest state (so a request cannot change the hub's)."""
        with self._lock:
            return copy.deepcopy(self._state)

    @property
    def last_event_id(self) -> int:
        with self._lock:
            return self._next_id - 1

    @property
    def listener_count(self) -> int:
        with self._lock:
            return len(self._listeners)

    def subscribe(self, last_event_id: int | None = None, name: str = "",
                  events: frozenset[str] = frozenset()) -> Listener | None:
        """Register a client that takes the state and the named ``events``; None if
        ``max_listeners`` are already connected.

        A client that says where it left off gets the ring's later messages; one that is new, or
        whose last id has already left the ring, gets the current state first.
        """
        with self._lock:
            if len(self._listeners) >= self.max_listeners:
                return None
            listener = Listener(queue.Queue(maxsize=self._queue_size), name=name, events=frozenset(events))
            oldest = self._ring[0][0] if self._ring else self._next_id
            backlog = None
            if last_event_id is not None and oldest <= last_event_id + 1 <= self._next_id:
                backlog = [message for event_id, event, message in self._ring
                           if event_id > last_event_id and _wants(listener, event)]
            if backlog is None or len(backlog) > self._queue_size:
                # New, or away too long for the ring (or for its own queue: the oldest of what
                # it missed would be cut, silently): it starts again from the current state,
                # re-sent under the latest id, so ids stay increasing.
                backlog = []
                if self._state:
                    backlog.append(format_json_event(self._state, event=None, id=self._next_id - 1))
            for message in backlog:
                listener.queue.put_nowait(message)
            self._listeners.add(listener)
            return listener

    def unsubscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.discard(listener)

    def close_all(self) -> None:
        """End every stream now (shutting down): each generator sees the flag or the None."""
        with self._lock:
            listeners, self._listeners = self._listeners, set()
        for listener in listeners:
            listener.dropped = True
            try:
                listener.queue.put_nowait(None)
            except queue.Full:
                pass

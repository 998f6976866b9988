"""The JSON API and the live event stream. Described for machines at ``/api/openapi.json``."""
from __future__ import annotations

import json
import logging
import queue
import re
import socket
from datetime import date, datetime, time as dtime, timedelta
from typing import Callable

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wsgi import ClosingIterator

from web.access import TOKEN_COOKIE, PairingLocked, WrongPin
from web.openapi import OPENAPI
from web.sse import format_sse

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api")

#: SQLite integers are 64-bit: a larger ``limit`` is refused rather than passed to it.
_MAX_LIMIT = 2**63 - 1
_PIN = re.compile(r"[0-9]{6}")


def _ext(name: str):
    return current_app.extensions["backrep"][name]


def _error(status: int, message: str):
    response = jsonify({"error": message})
    response.status_code = status
    return response


@bp.app_errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    """Under /api/, Flask's own refusals (404, 405, 413, ...) are JSON like the API's; pages keep HTML."""
    if not request.path.startswith(bp.url_prefix + "/"):
        return exc
    response = exc.get_response()  # keeps headers such as Allow on a 405
    response.set_data(json.dumps({"error": f"{exc.name}: {exc.description}"}))
    response.mimetype = "application/json"
    return response


@bp.get("/state")
def state():
    return jsonify(_ext("live").state())


@bp.get("/health")
def health():
    """For people and monitors: how many live streams are open and how many were dropped."""
    live = _ext("live")
    return jsonify({"streams": live.listener_count, "max_streams": live.max_listeners,
                    "dropped_streams": live.dropped_total, "last_event_id": live.last_event_id})


@bp.get("/programme")
def programme():
    return jsonify(_ext("programme"))


@bp.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


def _json_object() -> dict | None:
    """The request's JSON body if it is an object; None for no JSON, bad JSON or any other value."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested thousands deep: the parser gives up, and so do we
        return None
    return body if isinstance(body, dict) else None


@bp.post("/pair")
def pair():
    """The PIN for a token: the tablet pairs once, then sends the token with every change."""
    body = _json_object()
    pin = body.get("pin") if body is not None else None
    if not isinstance(pin, str) or not _PIN.fullmatch(pin.strip()):
        return _error(400, 'send JSON {"pin": "123456"}: the six digits of the PIN, as a string')
    access = _ext("access")
    try:
        token = access.pair(pin.strip())
    except PairingLocked as exc:
        response = _error(429, str(exc))
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    except WrongPin as exc:
        return _error(403, str(exc))
    except OSError as exc:  # the data directory is full or read-only
        log.error("cannot keep a new pairing: %s", exc)
        return _error(503, f"cannot save the pairing now: {exc.strerror or exc}")
    response = jsonify({"token": token, "token_type": "Bearer"})
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    # For page loads and the event stream when reading needs a token; never accepted for a change.
    response.set_cookie(TOKEN_COOKIE, token, max_age=10 * 365 * 24 * 3600, httponly=True, samesite="Strict")
    return response


@bp.delete("/tokens")
def revoke_tokens():
    """Unpair every tablet, this one too; each must pair again with the PIN."""
    try:
        revoked = _ext("access").revoke_all()
    except OSError as exc:
        log.error("cannot revoke the paired tokens: %s", exc)
        return _error(503, f"cannot revoke now: {exc.strerror or exc}")
    response = jsonify({"revoked": revoked})
    response.delete_cookie(TOKEN_COOKIE)
    return response


@bp.post("/sets")
def start_set():
    body = _json_object()
    if body is None:
        return _error(400, "send JSON, an object: {\"exercise\": ID, \"leg\": \"left\"|\"right\"}")
    exercise, leg = body.get("exercise"), body.get("leg")
    if not isinstance(exercise, str) or not isinstance(leg, str):
        return _error(400, "exercise and leg are both required strings")
    try:
        started = _ext("controller").start_set(exercise, leg)
    except ValueError as exc:
        return _error(400, str(exc))
    except (RuntimeError, TimeoutError) as exc:
        return _error(503, f"cannot start a set now: {exc}")
    return jsonify({"set": started}), 201


@bp.post("/sets/stop")
def stop_set():
    try:
        summary = _ext("controller").stop_set()
    except (RuntimeError, TimeoutError) as exc:
        return _error(503, f"cannot stop the set now: {exc}")
    if summary is None:
        return _error(409, "no set is running")
    return jsonify({"set": summary})


def _day(name: str, default: date | None) -> date | None:
    text = request.args.get(name)
    if text is None or text == "":
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} must be a date like 2026-01-31, not {text!r}") from None


def _integer(name: str, default: int | None) -> int | None:
    """A whole-number query parameter; anything else is refused, never quietly replaced by the default."""
    text = request.args.get(name)
    if text is None or text == "":
        return default
    if not re.fullmatch(r"[+-]?[0-9]{1,30}", text.strip()):
        raise ValueError(f"{name} must be a whole number, not {text[:40]!r}")
    return int(text)


def _local_midnight_unix_s(day: date) -> float:
    return datetime.combine(day, dtime()).astimezone().timestamp()


def _range() -> tuple[float | None, float | None]:
    """``from`` and ``to`` as local calendar days, both included."""
    first, last = _day("from", None), _day("to", None)
    if first and last and last < first:
        raise ValueError("to is before from")
    try:
        return (None if first is None else _local_midnight_unix_s(first),
                None if last is None else _local_midnight_unix_s(last + timedelta(days=1)))
    except (OverflowError, ValueError):  # the calendar's first or last day, shifted by the time zone
        raise ValueError("from and to must be dates between 0001-01-02 and 9999-12-30") from None


@bp.get("/sessions")
def sessions():
    try:
        from_unix_s, to_unix_s = _range()
        limit = _integer("limit", None)
    except ValueError as exc:
        return _error(400, str(exc))
    if limit is not None and not 1 <= limit <= _MAX_LIMIT:
        return _error(400, f"limit must be 1..{_MAX_LIMIT}")
    records = _ext("store").sets(from_unix_s, to_unix_s, limit=limit)
    return jsonify({"sets": [record.as_dict() for record in records]})


@bp.get("/sessions/days")
def days():
    try:
        weeks = _integer("weeks", 6)
    except ValueError:
        weeks = None
    if weeks is None or not 1 <= weeks <= 104:
        return _error(400, "weeks must be 1..104")
    today = datetime.now().astimezone().date()
    first = today - timedelta(days=7 * weeks - 1)
    records = _ext("store").days(_local_midnight_unix_s(first), _local_midnight_unix_s(today + timedelta(days=1)))
    return jsonify({"from": first.isoformat(), "to": today.isoformat(),
                    "days": [record.as_dict() for record in records]})


@bp.get("/export.csv")
def export_csv():
    try:
        from_unix_s, to_unix_s = _range()
    except ValueError as exc:
        return _error(400, str(exc))
    name = "backrep-{}-{}.csv".format(request.args.get("from") or "start", request.args.get("to") or "now")
    return Response(_ext("store").export_csv(from_unix_s, to_unix_s), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


#: Kernel send buffer of a live stream's connection.
LIVE_STREAM_SNDBUF_BYTES = 32 * 1024


def _connection_closer(environ) -> "Callable[[], None] | None":
    """A way to close this request's connection from another thread, under waitress.

    A tablet that stops reading leaves its stream's worker blocked in a write once waitress's
    small output buffer is full; when the hub drops that client, shutting the socket wakes the
    worker (waitress sees the connection gone) and frees it. waitress exposes its channel only
    as the owner of ``waitress.client_disconnected``; other servers get no closer.
    """
    channel = getattr(environ.get("waitress.client_disconnected"), "__self__", None)
    sock = getattr(channel, "socket", None)
    if sock is None:
        return None
    try:
        # The kernel's send buffer grows to megabytes on its own: keep a live stream's small, so
        # a tablet that stops reading is noticed in seconds, not after an hour of events.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, LIVE_STREAM_SNDBUF_BYTES)
    except OSError:
        pass

    def close() -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass   # already gone

    return close


#: Named events a live stream carries when asked (``?events=engine,set_ended``), besides the
#: state, which every stream carries as its plain messages (shared/interfaces.md).
LIVE_NAMED_EVENTS = frozenset({"engine", "set_started", "set_ended"})


@bp.get("/events")
def events():
    live = _ext("live")
    last_id_text = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    try:
        last_id = int(last_id_text) if last_id_text else None
    except ValueError:
        last_id = None
    asked = [name for name in request.args.get("events", "").split(",") if name]
    unknown = sorted(set(asked) - LIVE_NAMED_EVENTS)
    if unknown:
        return _error(400, f"unknown live event {unknown[0]!r}: the named ones are "
                           f"{', '.join(sorted(LIVE_NAMED_EVENTS))}")
    listener = live.subscribe(last_id, name=request.remote_addr or "", events=frozenset(asked))
    if listener is None:
        response = _error(503, "too many live streams open; close a tab or tablet")
        response.headers["Retry-After"] = "5"
        return response
    listener.on_drop = _connection_closer(request.environ)
    heartbeat_s = float(current_app.config["HEARTBEAT_S"])
    retry_ms = int(current_app.config["SSE_RETRY_MS"])

    def stream():
        # Runs on a waitress worker thread for as long as the client stays; ``finally`` runs
        # when the client goes (the next write fails) or the hub drops or closes it.
        try:
            yield format_sse(comment="backrep live", retry_ms=retry_ms)
            while not listener.dropped:
                try:
                    message = listener.queue.get(timeout=heartbeat_s)
                except queue.Empty:
                    yield format_sse(comment="heartbeat")
                    continue
                if message is None:
                    break
                yield message
        finally:
            live.unsubscribe(listener)

    # A stream closed before its first chunk (a HEAD, a client gone at once) never runs the
    # generator's ``finally``: unsubscribe on close too, or the slot stays taken.
    return Response(ClosingIterator(stream(), lambda: live.unsubscribe(listener)), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

"""Who may do what: a pairing PIN, bearer tokens, and one rule per route.

The tablet pairs once: ``POST /api/pair {"pin": "123456"}`` with the PIN the service shows at
start-up returns a random token, which the browser keeps and sends as ``Authorization: Bearer``.
Only the token's SHA-256 is kept (in whatever ``tokens`` object is injected: the service keeps
them in a file in its data directory), so a copy of the Pi's card holds no usable token.

The rule for a request follows from its route and method, so a new route is guarded by default:

- ``open``: pairing itself (it needs the PIN) and the static files (the app's own code, the same on
  every install; the pairing screen needs them);
- ``write``: every method that changes something (POST, PUT, PATCH, DELETE) and the CSV export,
  which hands out the whole history: a valid token in the ``Authorization`` header, always;
- ``read``: every other page and API route: open on the LAN unless ``require_token_for_reading``,
  then a valid token in the header or in the ``backrep_token`` cookie set at pairing (a page load
  and an ``EventSource`` cannot send a header). The cookie never authorises a write, so another
  site cannot make the browser change anything (no CSRF).

Wrong PINs are rate-limited for everyone at once: after ``max_failures`` wrong PINs in a row,
pairing is locked for ``lock_s`` seconds, doubling with each further lock up to ``max_lock_s``; a
right PIN resets it. Tablets already paired are not affected by a lock.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from typing import Callable, Protocol

log = logging.getLogger(__name__)

TOKEN_COOKIE = "backrep_token"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Reachable without a token whatever the config says.
OPEN_ENDPOINTS = frozenset({"api.pair", "static"})
#: GET routes that need a token all the same: the export hands out the whole history.
TOKEN_GETS = frozenset({"api.export_csv"})


class TokenStore(Protocol):
    def digests(self) -> set[str]: ...
    def add(self, digest: str) -> None: ...
    def revoke_all(self) -> int: ...


class MemoryTokens:
    """Token digests in memory only: for tests, and an app built without a data directory."""

    def __init__(self) -> None:
        self._digests: set[str] = set()

    def digests(self) -> set[str]:
        return set(self._digests)

    def add(self, digest: str) -> None:
        self._digests.add(digest)

    def revoke_all(self) -> int:
        count = len(self._digests)
        self._digests.clear()
        return count


class PairingLocked(Exception):
    """Too many wrong PINs: pairing refuses everything for ``retry_after_s`` more seconds."""

    def __init__(self, retry_after_s: int, lock_s: int) -> None:
        super().__init__(f"too many wrong PINs: pairing is locked for {lock_s} s "
                         f"(try again in {retry_after_s} s)")
        self.retry_after_s = retry_after_s


class WrongPin(Exception):
    """The PIN did not match."""


def new_pin() -> str:
    """Six decimal digits, uniformly from the OS's cryptographic source."""
    return f"{secrets.randbelow(10**6):06d}"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def rule_for(endpoint: str | None, method: str) -> str:
    """``open``, ``write`` or ``read`` for a matched route."""
    if endpoint in OPEN_ENDPOINTS:
        return "open"
    if method.upper() in WRITE_METHODS or endpoint in TOKEN_GETS:
        return "write"
    return "read"


class Access:
    """The PIN, the paired tokens and the pairing lock; safe to use from any thread."""

    def __init__(self, pin: str | None = None, tokens: TokenStore | None = None, *,
                 require_token_for_reading: bool = False, max_failures: int = 5, lock_s: float = 60.0,
                 max_lock_s: float = 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.pin = pin if pin is not None else new_pin()
        if not (len(self.pin) == 6 and self.pin.isascii() and self.pin.isdigit()):
            raise ValueError("a pairing PIN is six digits")
        self.tokens = tokens if tokens is not None else MemoryTokens()
        self.require_token_for_reading = require_token_for_reading
        self.max_failures = max_failures
        self.lock_s = lock_s
        self.max_lock_s = max_lock_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._locks_in_a_row = 0
        self._locked_until = 0.0
        self._digests: set[str] | None = None  # loaded on first use, then kept in step

    def _known(self) -> set[str]:
        if self._digests is None:
            try:
                self._digests = set(self.tokens.digests())
            except OSError as exc:  # unreadable: nobody is paired until it can be read
                log.error("cannot read the paired tokens: %s", exc)
                return set()
        return self._digests

    # -- tokens -------------------------------------------------------------------------------
    def valid(self, token: str | None) -> bool:
        if not token:
            return False
        digest = token_digest(token)
        with self._lock:
            known = self._known()
        # compare_digest against each: how long this takes says nothing about the token.
        return any([hmac.compare_digest(digest, d) for d in known])

    def issue_token(self) -> str:
        """A new token, kept (hashed) before it is handed out; OSError when it cannot be kept."""
        token = secrets.token_urlsafe(32)
        digest = token_digest(token)
        with self._lock:
            known = self._known()
            self.tokens.add(digest)
            known.add(digest)
            if self._digests is None:
                self._digests = known
        return token

    def revoke_all(self) -> int:
        """Forget every token (this browser's too); returns how many were paired."""
        with self._lock:
            count = self.tokens.revoke_all()
            self._digests = set()
        log.warning("revoked %d paired token(s): every tablet must pair again", count)
        return count

    # -- pairing ------------------------------------------------------------------------------
    def pair(self, pin: str) -> str:
        """A new token for the right PIN; ``WrongPin``, or ``PairingLocked`` while locked."""
        with self._lock:
            now = self._clock()
            if now < self._locked_until:
                raise PairingLocked(int(self._locked_until - now + 0.999), int(self._current_lock_s()))
            right = hmac.compare_digest(pin.encode("utf-8", "surrogatepass"), self.pin.encode())
            if not right:
                self._failures += 1
                if self._failures >= self.max_failures:
                    self._failures = 0
                    self._locks_in_a_row += 1
                    lock_s = self._current_lock_s()
                    self._locked_until = now + lock_s
                    log.warning("%d wrong pairing PINs in a row: pairing locked for %d s", self.max_failures, lock_s)
                    raise PairingLocked(int(lock_s), int(lock_s))
                raise WrongPin(f"wrong PIN ({self.max_failures - self._failures} more before pairing locks "
                               f"for {int(self._next_lock_s())} s)")
            self._failures = 0
            self._locks_in_a_row = 0
        token = self.issue_token()
        log.info("a browser paired")
        return token

    def _current_lock_s(self) -> float:
        return min(self.max_lock_s, self.lock_s * 2 ** max(0, self._locks_in_a_row - 1))

    def _next_lock_s(self) -> float:
        return min(self.max_lock_s, self.lock_s * 2 ** self._locks_in_a_row)


# -- the rule, applied to every request ------------------------------------------------------

def bearer_token(request) -> str | None:
    """The token in ``Authorization: Bearer <token>``, or None."""
    scheme, _, token = (request.headers.get("Authorization") or "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def install(app, access: Access) -> None:
    """Check every request against its route's rule before the route runs."""
    from flask import jsonify, render_template, request

    @app.before_request
    def _guard():
        if request.routing_exception is not None:
            return None  # 404 and 405 say so themselves
        rule = rule_for(request.endpoint, request.method)
        if rule == "open" or (rule == "read" and not access.require_token_for_reading):
            return None
        token = bearer_token(request)
        if token is None and rule == "read":
            token = request.cookies.get(TOKEN_COOKIE)
        if access.valid(token):
            return None
        if token is None:
            message = ("this needs a paired tablet: pair with the PIN (POST /api/pair; `backrep pin` on the Pi "
                       "shows it), then send Authorization: Bearer <token>")
            challenge = 'Bearer realm="backrep"'
        else:
            message = "the token is not valid (revoked, or never issued): pair again with the PIN"
            challenge = 'Bearer realm="backrep", error="invalid_token"'
        if request.path.startswith("/api/"):
            response = jsonify({"error": message})
        else:
            response = app.make_response(render_template("locked.html", page="locked"))
        response.status_code = 401
        response.headers["WWW-Authenticate"] = challenge
        response.headers["Cache-Control"] = "no-store"
        return response

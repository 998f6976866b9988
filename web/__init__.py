"""The dashboard and its JSON API, as a Flask app built by ``create_app``.

The web knows nothing of I2C or of how sets are counted: everything it shows comes from objects
injected here (the live hub, the store, the controller that starts and stops sets, the
programme, and who may change things), so tests hand it fakes and the service hands it the real ones.
"""
from __future__ import annotations

import io
from typing import Any

from flask import Flask, abort, request

#: Request bodies larger than this are refused with 413 before anything reads them.
MAX_BODY_BYTES = 16 * 1024


def create_app(config: dict | None = None, *, live: Any = None, store: Any = None,
               controller: Any = None, programme: dict | None = None, access: Any = None) -> Flask:
    """Build the app.

    ``live``: ``state() -> dict``, ``subscribe(last_event_id, name) -> listener | None``,
    ``unsubscribe(listener)``; ``store``: ``sets(...)``, ``days(...)``, ``export_csv(...)``;
    ``controller``: ``start_set(exercise, leg) -> dict``, ``stop_set() -> dict | None``;
    ``access``: a ``web.access.Access`` (the PIN and the paired tokens). Without one, the app
    makes its own from the config's ``PAIRING_PIN`` (random if absent) and
    ``REQUIRE_TOKEN_FOR_READING``, keeping tokens in memory.
    """
    from web.access import Access, install

    app = Flask(__name__)
    app.config.from_mapping(
        HEARTBEAT_S=5.0,
        SSE_RETRY_MS=2000,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        REQUIRE_TOKEN_FOR_READING=False,
    )
    app.json.sort_keys = False  # keep the order the state is built in: easier to read
    if config is not None:
        app.config.from_mapping(config)
    if access is None:
        access = Access(app.config.get("PAIRING_PIN"),
                        require_token_for_reading=bool(app.config["REQUIRE_TOKEN_FOR_READING"]))
    app.extensions["backrep"] = {"live": live, "store": store, "controller": controller, "access": access,
                                 "programme": programme or {"exercises": [], "legs": [], "safety_note": ""}}

    @app.before_request
    def _bounded_body():
        limit = app.config["MAX_CONTENT_LENGTH"]
        if limit is None:
            return
        too_large = f"a request body may be at most {limit} bytes"
        if request.content_length is not None:
            if request.content_length > limit:
                abort(413, description=too_large)
        elif request.environ.get("wsgi.input_terminated"):
            # A body of unstated length (chunked, on a server that passes it on as it comes):
            # read one byte past the limit, so an oversized body is refused, never cut short.
            body = request.environ["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                abort(413, description=too_large)
            request.environ.update({"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))})
            del request.environ["wsgi.input_terminated"]

    install(app, access)

    from web import api, pages

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    return app

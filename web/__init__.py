"""The dashboard and its JSON API, as a Flask app built by ``create_app``.

The web knows nothing of I2C or of how sets are counted: everything it shows comes from objects
injected here (the live hub, the store, the controller that starts and stops sets, and the
programme), so tests hand it fakes and the service hands it the real ones.
"""
from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(config: dict | None = None, *, live: Any = None, store: Any = None,
               controller: Any = None, programme: dict | None = None) -> Flask:
    """Build the app.

    ``live``: ``state() -> dict``, ``subscribe(last_event_id, name) -> listener | None``,
    ``unsubscribe(listener)``; ``store``: ``sets(...)``, ``days(...)``, ``export_csv(...)``;
    ``controller``: ``start_set(exercise, leg) -> dict``, ``stop_set() -> dict | None``.
    """
    app = Flask(__name__)
    app.config.from_mapping(
        HEARTBEAT_S=5.0,
        SSE_RETRY_MS=2000,
    )
    app.json.sort_keys = False  # keep the order the state is built in: easier to read
    if config is not None:
        app.config.from_mapping(config)
    app.extensions["backrep"] = {"live": live, "store": store, "controller": controller,
                                 "programme": programme or {"exercises": [], "legs": [], "safety_note": ""}}

    from web import api, pages

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    return app

"""The OpenAPI 3.1 description of the API, served at ``/api/openapi.json``."""
from __future__ import annotations

_DATE = {"type": "string", "format": "date"}
_ERROR = {"description": "Refused; `error` says why.",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
#: A state-changing route: a paired token, always (see web/access.py).
_TOKEN = [{"bearer": []}]
#: A reading route: open on the LAN, unless the service is configured to need a token for reading.
_TOKEN_IF_CONFIGURED = [{}, {"bearer": []}, {"cookie": []}]
_UNAUTHORIZED = {"description": "No valid token: pair first (`POST /api/pair`), then send "
                                "`Authorization: Bearer <token>`. A `WWW-Authenticate: Bearer` header says so.",
                 "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
                 "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_TOO_LARGE = {"description": "The request body is over 16 KiB.",
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_HOLD = {"type": "object", "properties": {"start_s": {"type": "number"}, "end_s": {"type": "number"},
                                           "duration_s": {"type": "number"}}}
_SET = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "exercise": {"type": "string"}, "leg": {"enum": ["left", "right"]},
        "status": {"enum": ["open", "closed", "interrupted"]}, "reps": {"type": "integer"},
        "target_reps": {"type": "integer"}, "hold_target_s": {"type": "number"},
        "rep_times_s": {"type": "array", "items": {"type": "number"}},
        "holds": {"type": "array", "items": {"$ref": "#/components/schemas/Hold"}},
        "date": _DATE, "started_at": {"type": "string", "format": "date-time"},
        "ended_at": {"type": ["string", "null"], "format": "date-time"}, "source": {"type": "string"},
    },
}
_STATE = {
    "type": "object",
    "required": ["exercise", "reps", "holds", "hold"],
    "properties": {
        "exercise": {"type": ["string", "null"], "description": "Exercise of the set under way."},
        "leg": {"type": ["string", "null"]},
        "phase": {"enum": ["idle", "reference", "ready"],
                  "description": "`reference`: lie flat, legs straight, keep still; `ready`: go."},
        "reference_progress": {"type": "number", "minimum": 0, "maximum": 1},
        "reps": {"type": "integer"}, "target_reps": {"type": "integer"},
        "holds": {"type": "array", "items": {"$ref": "#/components/schemas/Hold"},
                  "description": "Completed holds, as in replay."},
        "hold": {"type": "object", "properties": {"active": {"type": "boolean"},
                                                  "elapsed_s": {"type": "number"},
                                                  "target_s": {"type": "number"}}},
        "angle_deg": {"type": ["number", "null"]}, "rate_hz": {"type": ["number", "null"]},
        "set": {"type": ["object", "null"]}, "last_set": {"type": ["object", "null"]},
        "sensor": {"type": "object", "properties": {"state": {"type": "string"},
                                                    "rate_hz": {"type": ["number", "null"]}}},
        "mode": {"enum": ["sensor", "demo", "replay"]},
        "mono_s": {"type": ["number", "null"],
                   "description": "Monotonic clock when the newest samples entered the engine."},
    },
}

OPENAPI: dict = {
    "openapi": "3.1.0",
    "info": {"title": "backrep live service", "version": "1",
             "description": "Rep counts, hold timers and history from the thigh sensor."},
    "paths": {
        "/api/state": {"get": {"summary": "The live state now.", "responses": {
            "200": {"description": "State.", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/State"}}}}}}},
        "/api/events": {"get": {
            "summary": "Server-Sent Events: the state whenever it changes, as plain (unnamed) messages; "
                       "with `?events=` also the named events asked for: `engine` (rep_counted, hold_ended, "
                       "...), `set_started`, `set_ended`. Every change has an `id:`; send `Last-Event-ID` to "
                       "get what you missed from a short ring. An unchanged state is repeated without an id "
                       "(not kept in the ring). A comment heartbeat every few seconds.",
            "parameters": [{"name": "Last-Event-ID", "in": "header", "schema": {"type": "integer"}},
                           {"name": "events", "in": "query", "description": "Named events to add, comma-separated.",
                            "schema": {"type": "string", "example": "engine,set_started,set_ended"}}],
            "responses": {"200": {"description": "An endless event stream.",
                                  "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                          "400": _ERROR, "503": _ERROR}}},
        "/api/health": {"get": {"summary": "Open live streams, their limit, streams dropped for being slow.",
                                "responses": {"200": {"description": "Health.", "content": {"application/json": {
                                    "schema": {"type": "object", "properties": {
                                        "streams": {"type": "integer"}, "max_streams": {"type": "integer"},
                                        "dropped_streams": {"type": "integer"},
                                        "last_event_id": {"type": "integer"}}}}}}}}},
        "/api/programme": {"get": {"summary": "The exercises, their doses, and the safety note.",
                                   "responses": {"200": {"description": "Programme."}}}},
        "/api/pair": {"post": {
            "summary": "Pair a tablet: the PIN the service shows at start-up (`backrep pin`) for a token to send as "
                       "`Authorization: Bearer <token>`. The token is also set as an HttpOnly cookie, which only "
                       "ever authorises reading. Five wrong PINs in a row lock pairing for a minute, longer each time.",
            "security": [{}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["pin"],
                "properties": {"pin": {"type": "string", "pattern": "^[0-9]{6}$"}}}}}},
            "responses": {"201": {"description": "Paired.", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"token": {"type": "string"}, "token_type": {"const": "Bearer"}}}}}},
                "400": _ERROR, "403": {**_ERROR, "description": "Wrong PIN; `error` says how many tries are left."},
                "413": _TOO_LARGE,
                "429": {**_ERROR, "description": "Too many wrong PINs: pairing is locked; `Retry-After` says for how long.",
                        "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
                "503": _ERROR}}},
        "/api/tokens": {"delete": {
            "summary": "Revoke every paired token, this one too: every tablet pairs again.",
            "security": _TOKEN,
            "responses": {"200": {"description": "Revoked.", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"revoked": {"type": "integer"}}}}}},
                "401": _UNAUTHORIZED, "503": _ERROR}}},
        "/api/sets": {"post": {
            "summary": "Start a set (closing any set still open).",
            "security": _TOKEN,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["exercise", "leg"],
                "properties": {"exercise": {"type": "string"}, "leg": {"enum": ["left", "right"]}}}}}},
            "responses": {"201": {"description": "Started.", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"set": {"type": "object"}}}}}},
                "400": _ERROR, "401": _UNAUTHORIZED, "413": _TOO_LARGE, "503": _ERROR}}},
        "/api/sets/stop": {"post": {"summary": "Stop the set under way; returns its summary.", "security": _TOKEN,
                                    "responses": {
            "200": {"description": "Stopped.", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"set": {"$ref": "#/components/schemas/Set"}}}}}},
            "401": _UNAUTHORIZED, "409": _ERROR, "413": _TOO_LARGE, "503": _ERROR}}},
        "/api/sessions": {"get": {
            "summary": "Sets, newest first, with their reps and holds.",
            "parameters": [{"name": "from", "in": "query", "schema": _DATE},
                           {"name": "to", "in": "query", "schema": _DATE, "description": "Included."},
                           {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
            "responses": {"200": {"description": "Sets.", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"sets": {"type": "array",
                                                          "items": {"$ref": "#/components/schemas/Set"}}}}}}},
                "400": _ERROR}}},
        "/api/sessions/days": {"get": {
            "summary": "Per local day over the last weeks: sets, reps, holds, hold time.",
            "parameters": [{"name": "weeks", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                         "maximum": 104, "default": 6}}],
            "responses": {"200": {"description": "Days with exercise, oldest first."}, "400": _ERROR}}},
        "/api/export.csv": {"get": {
            "summary": "Sets in a date range as CSV, one row per set. Hands out the whole history: needs a token.",
            "security": _TOKEN,
            "parameters": [{"name": "from", "in": "query", "schema": _DATE},
                           {"name": "to", "in": "query", "schema": _DATE}],
            "responses": {"200": {"description": "CSV.", "content": {"text/csv": {"schema": {"type": "string"}}}},
                          "400": _ERROR, "401": _UNAUTHORIZED}}},
        "/api/openapi.json": {"get": {"summary": "This description.",
                                      "responses": {"200": {"description": "OpenAPI 3.1."}}}},
    },
    "security": _TOKEN_IF_CONFIGURED,
    "components": {
        "schemas": {"State": _STATE, "Set": _SET, "Hold": _HOLD,
                    "Error": {"type": "object", "properties": {"error": {"type": "string"}}}},
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "A token from `POST /api/pair`. Starting or stopping a set, the export "
                                      "and revoking need it; reading needs it only when the service is "
                                      "configured with `require_token_for_reading`."},
            "cookie": {"type": "apiKey", "in": "cookie", "name": "backrep_token",
                       "description": "Set at pairing; authorises reading only (pages, the event stream)."},
        },
    },
}

# Reading routes answer 401 too when the service is configured to need a token for reading.
for _operations in OPENAPI["paths"].values():
    for _operation in _operations.values():
        if "security" not in _operation:
            _operation["responses"].setdefault("401", _UNAUTHORIZED)

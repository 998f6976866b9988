"""The OpenAPI 3.1 description of the API, served at ``/api/openapi.json``."""
from __future__ import annotations

_DATE = {"type": "string", "format": "date"}
_ERROR = {"description": "Refused; `error` says why.",
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
            "summary": "Server-Sent Events: `state` whenever it changes, `engine` (rep_counted, hold_ended, ...), "
                       "`set_started`, `set_ended`. Every event has an `id:`; send `Last-Event-ID` to get "
                       "what you missed from a short ring. A comment heartbeat every few seconds.",
            "parameters": [{"name": "Last-Event-ID", "in": "header", "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "An endless event stream.",
                                  "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                          "503": _ERROR}}},
        "/api/health": {"get": {"summary": "Open live streams, their limit, streams dropped for being slow.",
                                "responses": {"200": {"description": "Health.", "content": {"application/json": {
                                    "schema": {"type": "object", "properties": {
                                        "streams": {"type": "integer"}, "max_streams": {"type": "integer"},
                                        "dropped_streams": {"type": "integer"},
                                        "last_event_id": {"type": "integer"}}}}}}}}},
        "/api/programme": {"get": {"summary": "The exercises, their doses, and the safety note.",
                                   "responses": {"200": {"description": "Programme."}}}},
        "/api/sets": {"post": {
            "summary": "Start a set (closing any set still open).",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["exercise", "leg"],
                "properties": {"exercise": {"type": "string"}, "leg": {"enum": ["left", "right"]}}}}}},
            "responses": {"201": {"description": "Started.", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"set": {"type": "object"}}}}}},
                "400": _ERROR, "503": _ERROR}}},
        "/api/sets/stop": {"post": {"summary": "Stop the set under way; returns its summary.", "responses": {
            "200": {"description": "Stopped.", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"set": {"$ref": "#/components/schemas/Set"}}}}}},
            "409": _ERROR, "503": _ERROR}}},
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
            "summary": "Sets in a date range as CSV, one row per set.",
            "parameters": [{"name": "from", "in": "query", "schema": _DATE},
                           {"name": "to", "in": "query", "schema": _DATE}],
            "responses": {"200": {"description": "CSV.", "content": {"text/csv": {"schema": {"type": "string"}}}},
                          "400": _ERROR}}},
        "/api/openapi.json": {"get": {"summary": "This description.",
                                      "responses": {"200": {"description": "OpenAPI 3.1."}}}},
    },
    "components": {"schemas": {"State": _STATE, "Set": _SET, "Hold": _HOLD,
                               "Error": {"type": "object", "properties": {"error": {"type": "string"}}}}},
}

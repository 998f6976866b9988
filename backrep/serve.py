"""``backrep serve``: the sensor loop, the live hub, the store and the dashboard in one process.

Shutdown is bounded: SIGTERM or SIGINT ends every live stream, stops the loop (which closes the
open set), and gives the web workers one second, well inside systemd's and the tests' five.
"""
from __future__ import annotations

import fcntl
import logging
import logging.config
import signal
import socket
import sqlite3
import threading
import time
from importlib import resources
from pathlib import Path

from backrep.config import Config, load_config, logging_config
from backrep.errors import InputFileError, UsageError
from backrep.live import LiveHub
from backrep.sd_notify import Notifier, ProgressWatchdog, watchdog_interval_s
from backrep.service import (LEGS, SENSOR_OPEN_ERRORS, AwaitedSensorSource, ScriptedSource, Segment, SensorSource,
                             Service, programme)
from backrep.store import Store

#: Bytes a live stream may have waiting for a tablet before its worker blocks.
STREAM_BUFFER_BYTES = 32 * 1024

log = logging.getLogger(__name__)


def _check_exercise(exercise_id: str) -> None:
    from signal_processing import CATALOGUE

    if exercise_id not in CATALOGUE:
        raise UsageError(f"unknown exercise {exercise_id!r} (known: {', '.join(CATALOGUE)})")


def demo_segments(search: list[Path] | None = None) -> list[Segment]:
    """The bundled demo recordings (``backrep/demo/*.csv``), one per exercise in programme order.

    Falls back to ``recordings/*.csv`` in the working directory when nothing is bundled.
    """
    from backrep.recording import read_labels
    from signal_processing import CATALOGUE

    if search is None:
        search = [Path(str(resources.files("backrep").joinpath("demo"))), Path("recordings")]
    order = [ex_id for ex_id, ex in CATALOGUE.items() if ex.in_programme]
    for folder in search:
        found: dict[str, Segment] = {}
        for path in sorted(folder.glob("*.csv")):
            labels = read_labels(path)
            exercise = labels.exercise if labels else next((e for e in order if path.name.startswith(e)), None)
            if exercise in order and exercise not in found:
                leg = (labels.side if labels else None) or LEGS[len(found) % 2]
                found[exercise] = Segment(path, exercise, leg)
        if found:
            return [found[e] for e in order if e in found]
    raise InputFileError(" or ".join(str(p) for p in search), "no demo recordings (*.csv) found")


def build_source(args, config: Config, data_dir: Path | None = None):
    if args.demo and args.replay:
        raise UsageError("--demo and --replay cannot be used together")
    if args.replay:
        if not args.exercise:
            raise UsageError("--replay needs --exercise ID")
        _check_exercise(args.exercise)
        from backrep.recording import read_labels, read_recording

        recording = read_recording(args.replay)  # InputFileError names the file and line
        labels = read_labels(args.replay)
        leg = (labels.side if labels else None) or recording.metadata.get("side") or "right"
        leg = leg if leg in LEGS else "right"
        return ScriptedSource([Segment(Path(args.replay), args.exercise, leg)], speed=args.speed,
                              mode="replay", reader=lambda _path: recording)
    if args.exercise:
        raise UsageError("--exercise only goes with --replay")
    if args.speed != 1.0 and not args.demo:
        raise UsageError("--speed only goes with --replay or --demo")
    if args.demo:
        speed = args.speed if args.speed != 1.0 else config.demo.speed
        # A faster demo shortens the pauses between sets too.
        return ScriptedSource(demo_segments(), speed=speed, cycle=True, pause_s=config.demo.pause_s / speed,
                              mode="demo")
    def opened() -> SensorSource:
        return SensorSource.open(config.sensor.bus, config.sensor.address, config.sensor.rate_hz,
                                 calibration_dir=None if data_dir is None else data_dir / "calibration")

    try:
        return opened()
    except SENSOR_OPEN_ERRORS as exc:
        # Served all the same, the dashboard says the sensor is absent and why, and the
        # service takes it up when it is plugged in.
        hint = "" if "doctor" in str(exc) else "; `backrep doctor` looks for it"
        log.warning("cannot open the sensor: %s%s; serving, and trying again every 5 s "
                    "(no sensor at all? `backrep serve --demo`)", exc, hint)
        return AwaitedSensorSource(opened, str(exc), retry_s=5.0)


def _apply_overrides(config: Config, args) -> Config:
    from dataclasses import replace

    server = config.server
    if args.host is not None:
        server = replace(server, host=args.host)
    if args.port is not None:
        server = replace(server, port=args.port)
    return replace(config, server=server, data_dir=args.data_dir or config.data_dir)


def _lan_address() -> str | None:
    """This machine's address on the local network, for the line that tells you what to open."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 9))  # UDP connect sends nothing; it only picks a route
            return probe.getsockname()[0]
    except OSError:
        return None


def show_pin(pin: str, url: str, reading_needs_token: bool) -> None:
    """The pairing PIN in the log: the terminal, or under systemd the journal and the Pi's
    console (the unit's ``StandardOutput=journal+console``; the service opens no device)."""
    who = "to see or change anything" if reading_needs_token else "to start and stop sets"
    log.info("pairing PIN: %s at %s (a tablet pairs once with it %s; `backrep pin` shows it again)",
             pin, url, who)


LOCK_FILENAME = "serve.lock"


def _data_dir_lock(data_dir: Path):
    """An exclusive lock on the data directory, or a one-line refusal: a second ``serve`` on the
    same directory would mark the running one's open set as interrupted, and reset its sensor."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        lock = open(data_dir / LOCK_FILENAME, "a")
    except OSError as exc:
        raise InputFileError(str(data_dir), f"cannot use as the data directory: {exc.strerror or exc}") from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        raise UsageError(f"another backrep serve is already using {data_dir}; stop it first "
                         "(systemctl stop backrep)") from None
    return lock


def run(args) -> int:
    config = _apply_overrides(load_config(args.config, required=args.config is not None), args)
    logging.config.dictConfig(logging_config(config.log_level))
    data_dir = config.resolved_data_dir()
    lock = _data_dir_lock(data_dir)   # held for the process's life, before the sensor is touched
    source = build_source(args, config, data_dir)
    try:
        store = Store.in_dir(data_dir)
        interrupted = store.recover_interrupted(time.time())
    except OSError as exc:
        source.close()
        raise InputFileError(str(data_dir), f"cannot use as the data directory: {exc}") from None
    except sqlite3.Error as exc:  # a damaged or foreign file, or one locked by another program
        source.close()
        raise InputFileError(str(data_dir / Store.FILENAME), f"cannot open the history: {exc}") from None
    if interrupted:
        log.warning("marked %d set(s) left open by a crash as interrupted: %s", len(interrupted), interrupted)

    server_config = config.server
    hub = LiveHub(ring_size=server_config.replay_ring, queue_size=server_config.client_queue,
                  max_listeners=server_config.max_streams)
    service = Service(source, hub, store, state_interval_s=server_config.state_interval_s)

    from backrep.pin import TokenFile, load_or_create_pin
    from web import MAX_BODY_BYTES, create_app
    from web.access import Access

    try:
        pin = load_or_create_pin(data_dir)
    except OSError as exc:
        source.close()
        store.close()
        raise InputFileError(str(data_dir), f"cannot keep the pairing PIN there: {exc}") from None
    access = Access(pin, TokenFile(data_dir), require_token_for_reading=server_config.require_token_for_reading)
    app = create_app({"HEARTBEAT_S": server_config.heartbeat_s}, live=hub, store=store, controller=service,
                     programme=programme(), access=access)
    import waitress

    try:
        # waitress refuses bodies far over the app's limit from their Content-Length, before
        # reading them; the app answers the rest with a JSON 413.
        server = waitress.create_server(app, host=server_config.host, port=server_config.port,
                                        threads=server_config.threads, ident="backrep",
                                        channel_timeout=max(30, 4 * server_config.heartbeat_s),
                                        max_request_body_size=4 * MAX_BODY_BYTES,
                                        # a tablet that stops reading blocks its stream after
                                        # this much (not waitress's 16 MiB), so the hub notices
                                        # within seconds and drops it (web.api also keeps the
                                        # kernel's buffer of each live stream small)
                                        outbuf_high_watermark=STREAM_BUFFER_BYTES)
    except (OSError, ValueError) as exc:   # ValueError: a host that is no address
        source.close()
        raise UsageError(f"cannot listen on {server_config.host}:{server_config.port}: "
                         f"{getattr(exc, 'strerror', None) or exc}") from None

    stop = threading.Event()

    def on_signal(signum, _frame):
        log.info("%s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    service.start()
    web_thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    web_thread.start()
    notifier = Notifier.from_env()
    port = getattr(server, "effective_port", server_config.port)
    shown_host = server_config.host
    if shown_host in ("0.0.0.0", "::", ""):
        shown_host = _lan_address() or "localhost"
    log.info("dashboard: open http://%s:%s/ on the tablet (%s, history in %s, %d web threads)",
             shown_host, port, service.mode, data_dir, server_config.threads)
    show_pin(pin, f"http://{shown_host}:{port}/", server_config.require_token_for_reading)
    notifier.notify("READY=1", f"STATUS=serving on port {port} ({service.mode})")

    watchdog_s = watchdog_interval_s()
    ping_s = watchdog_s / 2 if watchdog_s else 1.0
    watchdog = ProgressWatchdog(notifier, lambda: service.progress) if watchdog_s else None
    status = 0
    while not stop.wait(ping_s):
        if service.error is not None or not service.alive:
            log.error("the sensor loop has stopped; exiting so systemd can restart the service")
            status = 1
            break
        if watchdog is not None:
            watchdog.tick()

    notifier.notify("STOPPING=1")
    hub.close_all()
    service.stop(timeout_s=2.0)
    server.task_dispatcher.shutdown(cancel_pending=True, timeout=1.0)
    store.close()
    lock.close()
    log.info("stopped")
    return status

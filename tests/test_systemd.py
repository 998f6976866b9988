"""The systemd unit: verify prints nothing, exposure under 2.5, and the notify protocol works.

``systemd-analyze verify`` checks that ExecStart's binary exists. The unit names the path it
has on the Pi (/opt/backrep/...), which does not exist here, so we verify a copy whose only
change is ExecStart pointing at this checkout's own ``backrep`` entry point.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from backrep.sd_notify import Notifier, ProgressWatchdog, watchdog_interval_s
from tests.test_service import make_recording
from tests.test_web_serve import free_port, get_json

UNIT = Path(__file__).resolve().parent.parent / "systemd" / "backrep.service"
ANALYZE = "/usr/bin/systemd-analyze"
#: "OK" in systemd-analyze's own scale runs to 4.9; we hold ourselves to under 2.5.
MAX_EXPOSURE = 2.5


def _local_copy(tmp_path: Path) -> Path:
    entry_point = Path(sys.executable).parent / "backrep"
    assert entry_point.exists()
    text = UNIT.read_text()
    assert "ExecStart=/opt/backrep/.venv/bin/backrep serve" in text
    copy = tmp_path / "backrep.service"
    copy.write_text(text.replace("/opt/backrep/.venv/bin/backrep", str(entry_point)))
    return copy


def test_verify_prints_nothing(tmp_path):
    result = subprocess.run([ANALYZE, "verify", str(_local_copy(tmp_path))], capture_output=True, text=True)
    lines = (result.stdout + result.stderr).splitlines()
    assert lines == [] and result.returncode == 0


def test_security_exposure_is_under_the_threshold(tmp_path):
    result = subprocess.run([ANALYZE, "security", "--offline=true", "--no-pager", str(_local_copy(tmp_path))],
                            capture_output=True, text=True)
    match = re.search(r"Overall exposure level for backrep\.service: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) < MAX_EXPOSURE


def test_unit_keeps_the_i2c_devices_and_the_promised_settings():
    settings = [line.strip() for line in UNIT.read_text().splitlines() if "=" in line and not line.startswith("#")]
    for wanted in ("Type=notify", "Restart=on-failure", "SupplementaryGroups=i2c", "DevicePolicy=closed",
                   "DeviceAllow=char-i2c rw", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                   "StateDirectory=backrep"):
        assert wanted in settings
    assert any(s.startswith("WatchdogSec=") for s in settings)
    assert not any(s.startswith("PrivateDevices=") for s in settings)  # it would hide /dev/i2c-*
    assert not any(s.startswith("User=root") for s in settings)
    # the port and host are the config file's to set (ConfigurationDirectory): an option wins over it
    (exec_start,) = [s for s in settings if s.startswith("ExecStart=")]
    assert "--port" not in exec_start and "--host" not in exec_start and "ConfigurationDirectory=backrep" in settings


def _listen(tmp_path: Path) -> tuple[socket.socket, str]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.2)
    return sock, path


def _received(sock) -> list[str]:
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except (socket.timeout, BlockingIOError):
            return out


def test_notifier_sends_datagrams_and_is_quiet_outside_systemd(tmp_path):
    sock, path = _listen(tmp_path)
    assert Notifier(path).notify("READY=1", "STATUS=ok")
    assert _received(sock) == ["READY=1\nSTATUS=ok"]
    assert Notifier.from_env({}).notify("READY=1") is False
    assert watchdog_interval_s({"WATCHDOG_USEC": "10000000"}) == 10.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"}, pid=2) is None
    sock.close()


def test_watchdog_is_fed_only_when_the_loop_made_progress(tmp_path):
    sock, path = _listen(tmp_path)
    progress = [0]
    watchdog = ProgressWatchdog(Notifier(path), lambda: progress[0])
    assert watchdog.tick() is True
    assert [watchdog.tick() for _ in range(3)] == [False, False, False]  # a hung loop: no pings
    progress[0] += 1
    assert watchdog.tick() is True
    assert _received(sock) == ["WATCHDOG=1", "WATCHDOG=1"]
    sock.close()


def test_serve_says_ready_pings_the_watchdog_and_says_stopping(tmp_path):
    sock, path = _listen(tmp_path)
    recording = make_recording(tmp_path / "heel.csv", "heel_slide", reps=2, hold_s=0, top_deg=45)
    port = free_port()
    # as the unit starts it: settings from $CONFIGURATION_DIRECTORY/config.toml, none on the command line
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "config.toml").write_text(f'[server]\nport = {port}\nhost = "127.0.0.1"\n')
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000", "HOME": str(tmp_path),
           "CONFIGURATION_DIRECTORY": str(tmp_path / "etc")}
    env.pop("WATCHDOG_PID", None)
    proc = subprocess.Popen([sys.executable, "-m", "backrep", "serve", "--data-dir", str(tmp_path / "d"),
                             "--replay", str(recording), "--exercise", "heel_slide"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    messages = []
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and messages.count("WATCHDOG=1") < 3:
            messages += _received(sock)
        get_json(f"http://127.0.0.1:{port}/api/state")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=5)
    messages += _received(sock)
    assert messages[0].startswith("READY=1\nSTATUS=serving")
    assert messages.count("WATCHDOG=1") >= 3
    assert messages[-1] == "STOPPING=1" and code == 0
    sock.close()

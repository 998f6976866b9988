"""Configuration: defaults in code, a file holding only what differs, refusals naming the file."""
from __future__ import annotations

from pathlib import Path

import pytest

from backrep.config import Config, load_config, logging_config
from backrep.errors import InputFileError


def test_defaults_without_a_file(tmp_path):
    config = load_config(tmp_path / "absent.toml")
    assert config == Config()
    assert config.server.port == 8080 and config.server.threads == config.server.max_streams + 4


def test_a_file_changes_only_what_it_names(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('data_dir = "/srv/backrep"\n[server]\nport = 8000\n[sensor]\naddress = 0x69\nrate_hz = 200\n')
    config = load_config(path)
    assert (config.server.port, config.sensor.address, config.sensor.rate_hz) == (8000, 0x69, 200.0)
    assert config.server.max_streams == Config().server.max_streams
    assert config.resolved_data_dir({}) == Path("/srv/backrep")


@pytest.mark.parametrize("text, words", [
    ("[server]\nprot = 1\n", "unknown setting 'server.prot'"),
    ("[server]\nport = true\n", "server.port must be int"),
    ("server = 3\n", "server must be a table"),
    ("log_level = 'LOUD'\n", "log_level must be"),
    ("[server\n", "not valid TOML"),
    ("[server]\nport = 99999\n", "server.port must be from 0 to 65535"),
    ("[server]\nmax_streams = -3\n", "server.max_streams must be at least 1"),
    ("[server]\nheartbeat_s = nan\n", "server.heartbeat_s must be from"),
    ("[demo]\nspeed = 0\n", "demo.speed must be from"),
    ("[sensor]\nrate_hz = inf\n", "sensor.rate_hz must be from"),
    ("[sensor]\naddress = 0x1ff\n", "sensor.address must be from"),
])
def test_bad_files_are_refused_naming_the_file(tmp_path, text, words):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(InputFileError) as error:
        load_config(path)
    assert str(path) in str(error.value) and words in str(error.value)


def test_an_explicit_config_must_exist(tmp_path):
    with pytest.raises(InputFileError, match="no such config file"):
        load_config(tmp_path / "nope.toml", required=True)


def test_data_dir_prefers_systemd_state_directory_then_xdg():
    assert Config().resolved_data_dir({"STATE_DIRECTORY": "/var/lib/backrep", "HOME": "/h"}) == Path("/var/lib/backrep")
    assert Config().resolved_data_dir({"XDG_DATA_HOME": "/x", "HOME": "/h"}) == Path("/x/backrep")
    assert Config().resolved_data_dir({"HOME": "/h"}) == Path("/h/.local/share/backrep")


def test_logging_goes_to_stdout_with_per_module_loggers():
    config = logging_config("DEBUG")
    assert config["handlers"]["stdout"]["stream"] == "ext://sys.stdout"
    assert {"backrep", "web", "firmware_bridge", "signal_processing"} <= set(config["loggers"])

"""The settings table (qkms.config): one field per setting, every other spelling derived from it."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from qkms.cli.options import add_setting_options
from qkms.config import SETTINGS, ConfigError, Settings, read_config_file, resolve
from qkms.domain.arns import ArnFormat

# The options and variables users already rely on: a rename would break their scripts.
_PUBLISHED = (
    "host port data_dir workers database_url tls_cert tls_key arn_format partition region "
    "root_key_file previous_root_key_file store_timeout key_cache_size log_level audit_log "
    "audit_max_bytes audit_backups throttle request_timeout keepalive_timeout max_connections"
).split()
DOCS = Path(__file__).parents[2] / "docs" / "running.md"


def test_every_published_option_and_variable_still_exists() -> None:
    by_name = {setting.name: setting for setting in SETTINGS}
    for name in _PUBLISHED:
        assert by_name[name].option == "--" + name.replace("_", "-")
        assert by_name[name].env == "QKMS_" + name.upper()


def test_every_setting_has_help_and_is_documented() -> None:
    documented = DOCS.read_text()
    for setting in SETTINGS:
        assert setting.help.strip(), setting.name
        assert f"`{setting.option}`" in documented, setting.option


def test_the_parser_gives_each_setting_its_field_type() -> None:
    parser = argparse.ArgumentParser()
    add_setting_options(parser, tuple(s.name for s in SETTINGS))
    args = parser.parse_args(
        ["--port", "5000", "--store-timeout", "1.5", "--data-dir", "d", "--throttle", "ecc=5"]
    )
    assert (args.port, args.store_timeout, args.data_dir) == (5000, 1.5, Path("d"))
    assert not hasattr(args, "host")  # not given: the environment or file may still set it


def test_the_command_line_beats_the_environment_which_beats_the_file() -> None:
    resolved = resolve(
        {"port": 3333},
        {"QKMS_PORT": "2222", "QKMS_REGION": "ap-south-1"},
        {"port": 1111, "region": "eu-west-1", "partition": "p"},
        "qkms.toml",
    )
    settings = resolved.settings
    assert (settings.port, settings.region, settings.partition) == (3333, "ap-south-1", "p")
    assert resolved.sources["port"] == "--port"
    assert resolved.sources["region"] == "QKMS_REGION"
    assert resolved.sources["partition"] == "qkms.toml"
    assert resolved.sources["host"] == "default"


def test_a_file_gives_typed_values(tmp_path: Path) -> None:
    config = tmp_path / "qkms.toml"
    config.write_text(
        'port = 4590\nstore_timeout = 3\narn_format = "aws"\ndata_dir = "d"\n'
        'throttle = ["ecc=5", "CreateKey=1"]\n'
    )
    assert read_config_file(config) == {
        "port": 4590,
        "store_timeout": 3.0,
        "arn_format": ArnFormat.AWS,
        "data_dir": Path("d"),
        "throttle": "ecc=5,CreateKey=1",
    }


def test_a_log_level_outside_the_choices_is_refused_by_name() -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"QKMS_LOG_LEVEL": "verbose"})
    assert str(refused.value) == (
        "QKMS_LOG_LEVEL='verbose' is not valid: expected 'debug', 'info', 'warning' or 'error'."
    )

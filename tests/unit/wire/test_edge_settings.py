"""The connection limits of `qkms serve` and their QKMS_* variables."""

from __future__ import annotations

import pytest

from qkms.config import ConfigError, Settings
from qkms.wire.http_protocol import EdgeLimits


def test_defaults_bound_a_slow_client_within_ten_seconds() -> None:
    settings = Settings()
    assert settings.request_timeout <= 10.0
    assert (settings.keepalive_timeout, settings.max_connections) == (5.0, 1000)
    assert EdgeLimits() == EdgeLimits(
        settings.request_timeout, settings.keepalive_timeout, settings.max_connections
    )


def test_environment_round_trip() -> None:
    environ = {
        "QKMS_REQUEST_TIMEOUT": "2.5",
        "QKMS_KEEPALIVE_TIMEOUT": "30",
        "QKMS_MAX_CONNECTIONS": "64",
    }
    settings = Settings.from_env(environ)
    assert (settings.request_timeout, settings.keepalive_timeout) == (2.5, 30.0)
    assert settings.max_connections == 64
    assert Settings.from_env(settings.to_env()) == settings


@pytest.mark.parametrize(
    ("changes", "phrase"),
    [
        ({"request_timeout": 0.0}, "--request-timeout"),
        ({"keepalive_timeout": -1.0}, "--keepalive-timeout"),
        ({"max_connections": 0}, "--max-connections"),
    ],
)
def test_nonsense_limits_are_refused(changes: dict[str, float], phrase: str) -> None:
    settings = Settings(**changes)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=phrase):
        settings.validate()


def test_a_malformed_variable_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        Settings.from_env({"QKMS_MAX_CONNECTIONS": "many"})

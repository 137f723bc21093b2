"""`--throttle` / QKMS_THROTTLE: one option, AWS's defaults unless overridden."""

from __future__ import annotations

import pytest

from qkms.config import ConfigError, Settings


def test_by_default_throttling_is_on_with_aws_quotas() -> None:
    config = Settings().throttle_config
    assert config.enabled and config.rates["ecc"] == 1000


def test_the_environment_carries_the_spec_to_the_workers() -> None:
    settings = Settings.from_env({"QKMS_THROTTLE": "ecc=5,CreateKey=0"})
    assert settings.throttle_config.rates["ecc"] == 5
    assert Settings.from_env(settings.to_env()) == settings


def test_the_symmetric_default_follows_the_region() -> None:
    assert Settings(region="ap-south-1").throttle_config.rates["symmetric"] == 10_000


def test_a_bad_spec_stops_the_server_with_the_option_named() -> None:
    with pytest.raises(ConfigError, match=r"--throttle / QKMS_THROTTLE: .*no such quota"):
        Settings(throttle="nope=1").validate()

"""Settings from QKMS_* variables: a malformed one is refused by name (qkms.config)."""

from __future__ import annotations

import pytest

from qkms.config import ConfigError, Settings


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("QKMS_PORT", "abc", "a whole number"),
        ("QKMS_WORKERS", "2.5", "a whole number"),
        ("QKMS_STORE_TIMEOUT", "soon", "a number"),
        ("QKMS_ARN_FORMAT", "long", "'seed' or 'aws'"),
    ],
)
def test_a_malformed_variable_is_named_with_its_value(name: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({name: value})
    assert str(refused.value) == f"{name}={value!r} is not valid: expected {expected}."


def test_empty_variables_mean_the_defaults() -> None:
    assert Settings.from_env({"QKMS_PORT": "", "QKMS_STORE_TIMEOUT": ""}) == Settings()

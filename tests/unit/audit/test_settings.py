"""The audit settings of `qkms serve` and their QKMS_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from qkms.config import ConfigError, Settings


def test_defaults_put_the_log_in_the_data_dir() -> None:
    settings = Settings(data_dir=Path("/srv/qkms"))
    assert settings.audit_log_path == Path("/srv/qkms/audit.log")
    assert settings.audit_max_bytes == 64 * 1024 * 1024
    assert settings.audit_backups == 5


def test_environment_round_trip() -> None:
    environ = {
        "QKMS_AUDIT_LOG": "/var/log/qkms/audit.log",
        "QKMS_AUDIT_MAX_BYTES": "8192",
        "QKMS_AUDIT_BACKUPS": "2",
    }
    settings = Settings.from_env(environ)
    assert settings.audit_log_path == Path("/var/log/qkms/audit.log")
    assert (settings.audit_max_bytes, settings.audit_backups) == (8192, 2)
    assert Settings.from_env(settings.to_env()) == settings


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"audit_max_bytes": 100}, "--audit-max-bytes"), ({"audit_backups": 0}, "--audit-backups")],
)
def test_settings_that_would_lose_events_are_refused(changes: dict[str, int], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings(**changes).validate()  # type: ignore[arg-type]

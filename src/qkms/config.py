"""Settings of `qkms serve`: every option has a `QKMS_*` environment variable (DESIGN §6)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from qkms.domain.arns import ArnFormat
from qkms.throttling import QuotaSpecError, ThrottleConfig, parse_throttle

__all__ = ["DEFAULT_ACCOUNT_ID", "DEFAULT_PORT", "ConfigError", "Settings"]

DEFAULT_ACCOUNT_ID = "111122223333"
DEFAULT_PORT = 4580
_T = TypeVar("_T")
# What each converter accepts, for the message naming a malformed QKMS_* variable.
_EXPECTED: dict[Callable[[str], Any], str] = {
    int: "a whole number",
    float: "a number",
    ArnFormat: " or ".join(repr(f.value) for f in ArnFormat),
}


class ConfigError(Exception):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    data_dir: Path = Path("qkms-data")
    workers: int = 0  # 0: one per core
    database_url: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    arn_format: ArnFormat = ArnFormat.SEED
    partition: str = "verenc"
    region: str = "us-east-1"
    root_key_file: Path | None = None
    previous_root_key_file: Path | None = None  # only while a root-key rotation runs
    store_timeout: float = 2.0
    key_cache_size: int = 10000
    log_level: str = "info"
    audit_log: Path | None = None  # None: <data-dir>/audit.log
    audit_max_bytes: int = 64 * 1024 * 1024  # rotate the audit log past this size
    audit_backups: int = 5  # rotated audit logs kept: audit.log.1 ... audit.log.<n>
    # Overrides of AWS's request quotas, "CLASS=RATE,..." or "off" (qkms.throttling.quotas).
    throttle: str = ""
    request_timeout: float = 10.0  # seconds to deliver a whole request (headers and body)
    keepalive_timeout: float = 5.0  # seconds an idle kept-alive connection stays open
    max_connections: int = 1000  # open connections per worker; more are refused with a 503

    @property
    def worker_count(self) -> int:
        return self.workers if self.workers > 0 else (os.cpu_count() or 1)

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "qkms.db"

    @property
    def audit_log_path(self) -> Path:
        return self.audit_log if self.audit_log is not None else self.data_dir / "audit.log"

    @property
    def throttle_config(self) -> ThrottleConfig:
        try:
            return parse_throttle(self.throttle, self.region)
        except QuotaSpecError as exc:
            raise ConfigError(f"--throttle / QKMS_THROTTLE: {exc}") from None

    def validate(self) -> None:
        self.throttle_config  # noqa: B018 - parsing is the check
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("--tls-cert and --tls-key go together: give both or neither.")
        if self.database_url is not None and not self.database_url.startswith(
            ("postgresql://", "postgres://")
        ):
            raise ConfigError(
                "--database-url must be a PostgreSQL URL (postgresql://user@host:5432/db, "
                "optionally ?schema=name); omit it to use the embedded SQLite store in --data-dir."
            )
        if not 0 < self.port < 65536:
            raise ConfigError(f"--port must be 1-65535, not {self.port}.")
        if self.store_timeout <= 0:
            raise ConfigError("--store-timeout must be positive.")
        if self.key_cache_size < 0:
            raise ConfigError("--key-cache-size must be 0 or more.")
        if self.audit_max_bytes < 4096:
            raise ConfigError("--audit-max-bytes must be at least 4096.")
        if self.request_timeout <= 0:
            raise ConfigError("--request-timeout must be positive.")
        if self.keepalive_timeout <= 0:
            raise ConfigError("--keepalive-timeout must be positive.")
        if self.max_connections < 1:
            raise ConfigError("--max-connections must be at least 1.")
        if self.audit_backups < 1:
            raise ConfigError(
                "--audit-backups must be at least 1: rotation keeps the previous log."
            )

    def to_env(self) -> dict[str, str]:
        """The environment that reproduces these settings in a worker process."""
        env: dict[str, str] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None:
                continue
            text = value.value if isinstance(value, ArnFormat) else str(value)
            env[f"QKMS_{field.name.upper()}"] = text
        return env

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        def get(name: str) -> str | None:
            value = environ.get(f"QKMS_{name.upper()}")
            return value if value not in (None, "") else None

        def parsed(name: str, convert: Callable[[str], _T], default: _T) -> _T:
            """The variable converted, or its default; a bad value names the variable."""
            text = get(name)
            if text is None:
                return default
            try:
                return convert(text)
            except ValueError:
                expected = _EXPECTED.get(convert, "another value")
                raise ConfigError(
                    f"QKMS_{name.upper()}={text!r} is not valid: expected {expected}."
                ) from None

        defaults = cls()
        return cls(
            host=get("host") or defaults.host,
            port=parsed("port", int, defaults.port),
            data_dir=Path(get("data_dir") or defaults.data_dir),
            workers=parsed("workers", int, defaults.workers),
            database_url=get("database_url"),
            tls_cert=Path(v) if (v := get("tls_cert")) else None,
            tls_key=Path(v) if (v := get("tls_key")) else None,
            arn_format=parsed("arn_format", ArnFormat, defaults.arn_format),
            partition=get("partition") or defaults.partition,
            region=get("region") or defaults.region,
            root_key_file=Path(v) if (v := get("root_key_file")) else None,
            previous_root_key_file=Path(v) if (v := get("previous_root_key_file")) else None,
            store_timeout=parsed("store_timeout", float, defaults.store_timeout),
            key_cache_size=parsed("key_cache_size", int, defaults.key_cache_size),
            log_level=get("log_level") or defaults.log_level,
            audit_log=Path(v) if (v := get("audit_log")) else None,
            audit_max_bytes=parsed("audit_max_bytes", int, defaults.audit_max_bytes),
            audit_backups=parsed("audit_backups", int, defaults.audit_backups),
            throttle=get("throttle") or defaults.throttle,
            request_timeout=parsed("request_timeout", float, defaults.request_timeout),
            keepalive_timeout=parsed("keepalive_timeout", float, defaults.keepalive_timeout),
            max_connections=parsed("max_connections", int, defaults.max_connections),
        )

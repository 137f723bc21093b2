"""Settings of `qkms serve`, each declared once; its option, variable and file key derive from it.

A setting is one field of `Settings` with its default and help text (`_setting`). From the
field's name come the command-line option (`port` -> `--port`), the environment variable
(`QKMS_PORT`) and the key in a `--config` file (`port = 4580`); from its annotation comes how a
value is parsed and what a malformed one is told it should be. `resolve` layers the sources:
command line over environment over file over defaults (DESIGN §6), and remembers which one
gave each value, for `qkms config show`.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields
from pathlib import Path
from typing import Any

from qkms.domain.arns import ArnFormat
from qkms.throttling import QuotaSpecError, ThrottleConfig, parse_throttle

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_PORT",
    "SETTINGS",
    "ConfigError",
    "Resolved",
    "Setting",
    "Settings",
    "read_config_file",
    "resolve",
]

DEFAULT_ACCOUNT_ID = "111122223333"
DEFAULT_PORT = 4580
_LOG_LEVELS = ("debug", "info", "warning", "error")
_DATABASE_URL_HELP = (
    "PostgreSQL store shared by several nodes: postgresql://user@host:5432/db, "
    "optionally ?schema=name (default: SQLite in --data-dir)"
)


class ConfigError(Exception):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _setting(
    default: Any, help: str, *, choices: tuple[str, ...] = (), repeatable: bool = False
) -> Any:
    """A field of Settings: its default, help text, and the values it accepts if a fixed set."""
    return field(
        default=default, metadata={"help": help, "choices": choices, "repeatable": repeatable}
    )


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = _setting("127.0.0.1", "address to listen on")
    port: int = _setting(DEFAULT_PORT, "port to listen on")
    data_dir: Path = _setting(Path("qkms-data"), "where the store, root key and credentials live")
    workers: int = _setting(0, "worker processes (default: one per core)")
    database_url: str | None = _setting(None, _DATABASE_URL_HELP)
    tls_cert: Path | None = _setting(None, "PEM certificate: serve HTTPS")
    tls_key: Path | None = _setting(None, "PEM private key for --tls-cert")
    arn_format: ArnFormat = _setting(
        ArnFormat.SEED,
        "seed: arn:verenc:<account>:key/<id>; aws: arn:verenc:kms:<region>:<account>:key/<id>",
        choices=tuple(f.value for f in ArnFormat),
    )
    partition: str = _setting("verenc", "ARN partition")
    region: str = _setting("us-east-1", "region in aws-format ARNs and audit events")
    root_key_file: Path | None = _setting(
        None,
        "file holding the base64 root wrapping key (default: <data-dir>/root.key, or QKMS_ROOT_KEY)",
    )
    previous_root_key_file: Path | None = _setting(
        None,
        "during a root-key rotation only: the root key being replaced (or QKMS_PREVIOUS_ROOT_KEY)",
    )
    store_timeout: float = _setting(
        2.0, "seconds a store call may take before DependencyTimeoutException"
    )
    key_cache_size: int = _setting(
        100000, "keys (metadata, policy) kept in memory per worker, about 1.7 KB each"
    )
    parsed_key_cache_size: int = _setting(
        10000,
        "of those, keys that keep their parsed private material too, about 2.7 KB more each; "
        "the others unwrap it again on use",
    )
    log_level: str = _setting(
        "info", "least severe log lines written to stderr", choices=_LOG_LEVELS
    )
    log_format: str = _setting(
        "text", "log lines as text, or json: one object per line", choices=("text", "json")
    )
    access_log: bool = _setting(
        True, "log one line per API request: request id, operation, status, access key id, ms"
    )
    audit_log: Path | None = _setting(
        None,
        "audit trail file, one JSON event per line, where operator changes are recorded too "
        "(default: <data-dir>/audit.log)",
    )
    audit_max_bytes: int = _setting(64 * 1024 * 1024, "rotate the audit log past this size")
    audit_backups: int = _setting(5, "rotated audit logs kept: audit.log.1 ... audit.log.<n>")
    # Overrides of AWS's request quotas, "CLASS=RATE,..." or "off" (qkms.throttling.quotas).
    throttle: str = _setting(
        "",
        "override an AWS request quota (requests/s per account, 0 = unlimited; '*' for "
        "every class), repeatable or comma-separated; 'off' disables throttling "
        "(default: AWS KMS's default quotas)",
        repeatable=True,
    )
    request_timeout: float = _setting(
        10.0,
        "seconds a client has to send a whole request, headers and body; slower ones get 408 "
        "and are closed",
    )
    keepalive_timeout: float = _setting(5.0, "seconds an idle kept-alive connection stays open")
    max_connections: int = _setting(
        1000, "open connections per worker; one more is refused at once with 503"
    )
    # Attested recipients (DESIGN §3 "Recipients"): whose attestation documents are believed.
    attestation_trust_root: str = _setting(
        "",
        "PEM file of a root certificate attestation documents must chain to, repeatable or "
        "comma-separated; replaces the default (the AWS Nitro Enclaves root)",
        repeatable=True,
    )
    attestation_max_age: float = _setting(
        300.0, "seconds an attestation document stays acceptable after its timestamp"
    )
    metrics: bool = _setting(
        True,
        "answer GET /metrics (Prometheus text, every worker added up, no authentication) on "
        "the API port, or on --metrics-port if given",
    )
    metrics_port: int = _setting(
        0, "serve /metrics on this port of --metrics-host instead of the API port (0: API port)"
    )
    metrics_host: str = _setting("127.0.0.1", "address of --metrics-port")

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
    def attestation_trust_root_files(self) -> tuple[Path, ...]:
        return tuple(Path(p.strip()) for p in self.attestation_trust_root.split(",") if p.strip())

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
        if self.parsed_key_cache_size < 0:
            raise ConfigError("--parsed-key-cache-size must be 0 or more.")
        if self.audit_max_bytes < 4096:
            raise ConfigError("--audit-max-bytes must be at least 4096.")
        if self.request_timeout <= 0:
            raise ConfigError("--request-timeout must be positive.")
        if self.keepalive_timeout <= 0:
            raise ConfigError("--keepalive-timeout must be positive.")
        if self.max_connections < 1:
            raise ConfigError("--max-connections must be at least 1.")
        if self.attestation_max_age <= 0:
            raise ConfigError("--attestation-max-age must be positive.")
        if not 0 <= self.metrics_port < 65536 or (self.metrics_port == self.port):
            raise ConfigError(
                f"--metrics-port must be 0 or a port other than --port ({self.port})."
            )
        if self.audit_backups < 1:
            raise ConfigError(
                "--audit-backups must be at least 1: rotation keeps the previous log."
            )

    def to_env(self) -> dict[str, str]:
        """The environment that reproduces these settings in a worker process."""
        env: dict[str, str] = {}
        for setting in SETTINGS:
            value = getattr(self, setting.name)
            if value is not None:
                env[setting.env] = setting.text(value)
        return env

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        return resolve({}, environ, {}).settings


_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _boolean(text: str) -> bool:
    try:
        return _BOOLEANS[text.lower()]
    except KeyError:
        raise ValueError(text) from None


# How a text is turned into each annotated type, and what a malformed one should have been.
_TEXT_PARSERS: dict[str, tuple[Callable[[str], Any], str]] = {
    "str": (str, "text"),
    "int": (int, "a whole number"),
    "float": (float, "a number"),
    "Path": (Path, "a path"),
    "bool": (_boolean, "true or false"),
}


def _one_of(values: tuple[str, ...]) -> str:
    quoted = [repr(v) for v in values]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0]


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting as every source spells it, and how its values are parsed."""

    name: str
    help: str
    default: Any
    kind: str  # the annotation without "| None": str, int, float, bool, Path or ArnFormat
    optional: bool
    choices: tuple[str, ...]
    repeatable: bool  # --throttle: given several times, the values are joined with ","

    @classmethod
    def of(cls, spec: Field[Any]) -> Setting:
        kind, _, none = str(spec.type).partition(" | ")
        return cls(
            name=spec.name,
            help=spec.metadata["help"],
            default=spec.default,
            kind=kind,
            optional=none == "None",
            choices=spec.metadata["choices"],
            repeatable=spec.metadata["repeatable"],
        )

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return "QKMS_" + self.name.upper()

    @property
    def expected(self) -> str:
        return _one_of(self.choices) if self.choices else _TEXT_PARSERS[self.kind][1]

    def parse(self, text: str) -> Any:
        """The value of `text`; ValueError if malformed (the caller names the source)."""
        if self.choices and text not in self.choices:
            raise ValueError(text)
        if self.kind == "ArnFormat":
            return ArnFormat(text)
        return _TEXT_PARSERS[self.kind][0](text)

    def text(self, value: Any) -> str:
        """The inverse of `parse`, for the environment of worker processes."""
        if isinstance(value, bool):
            return "true" if value else "false"
        return value.value if isinstance(value, ArnFormat) else str(value)

    def from_toml(self, value: object) -> Any:
        """The value of a config file entry; ValueError unless of this setting's TOML type."""
        if self.repeatable and isinstance(value, list):
            if not all(isinstance(item, str) for item in value):
                raise ValueError(value)
            return self.parse(",".join(value))
        if isinstance(value, bool) != (self.kind == "bool"):
            raise ValueError(value)
        if self.kind == "bool":
            return value
        if self.kind == "int" and isinstance(value, int):
            return value
        if self.kind == "float" and isinstance(value, int | float):
            return float(value)
        if self.kind not in ("int", "float", "bool") and isinstance(value, str):
            return self.parse(value)
        raise ValueError(value)


SETTINGS: tuple[Setting, ...] = tuple(Setting.of(spec) for spec in fields(Settings))
_BY_NAME = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True, slots=True)
class Resolved:
    """The effective settings, and where each came from: an option, a variable, a file, default."""

    settings: Settings
    sources: dict[str, str]


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings a TOML file gives, parsed; ConfigError naming the file and the bad key."""
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"the config file {path} cannot be read: {exc.strerror}.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"the config file {path} is not valid TOML: {exc}.") from None
    values: dict[str, Any] = {}
    for key, value in data.items():
        setting = _BY_NAME.get(key)
        if setting is None:
            close = difflib.get_close_matches(key.replace("-", "_"), _BY_NAME, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else " (see `qkms serve --help`)."
            raise ConfigError(f"{path}: unknown setting {key!r}{hint}")
        try:
            values[key] = setting.from_toml(value)
        except ValueError:
            raise ConfigError(
                f"{path}: {key} = {value!r} is not valid: expected {setting.expected}."
            ) from None
    return values


def resolve(
    command_line: Mapping[str, Any],
    environ: Mapping[str, str],
    file: Mapping[str, Any],
    file_name: str = "config file",
) -> Resolved:
    """Command line over environment over file over defaults; an empty variable is unset.

    `command_line` holds values argparse already parsed, `file` those of `read_config_file`.
    """
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        text = environ.get(setting.env)
        if setting.name in command_line:
            values[setting.name] = command_line[setting.name]
            sources[setting.name] = setting.option
        elif text not in (None, ""):
            try:
                values[setting.name] = setting.parse(text)
            except ValueError:
                raise ConfigError(
                    f"{setting.env}={text!r} is not valid: expected {setting.expected}."
                ) from None
            sources[setting.name] = setting.env
        elif setting.name in file:
            values[setting.name] = file[setting.name]
            sources[setting.name] = file_name
        else:
            sources[setting.name] = "default"
    return Resolved(Settings(**values), sources)

"""Command-line options derived from the settings table (qkms.config), and which command takes which.

Every setting option is declared with `default=argparse.SUPPRESS`: a namespace then holds only
what was typed, so an option given before the command (`qkms --data-dir d admin ...`), after
it, or after its action (`qkms admin create-user ... --data-dir d`) lands in the same place
without a later parser overwriting it with a default, and `qkms.config.resolve` can tell the
command line from the environment, the config file and the defaults.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from qkms.config import SETTINGS, Setting

__all__ = [
    "COMMAND_SETTINGS",
    "GLOBAL_SETTINGS",
    "add_setting_options",
    "command_line_settings",
    "refuse_foreign_settings",
]

_EVERY = tuple(setting.name for setting in SETTINGS)
_STORE = ("data_dir", "database_url", "store_timeout")
# The settings each command uses; the others are refused if given to it.
COMMAND_SETTINGS: dict[str, tuple[str, ...]] = {
    "serve": _EVERY,
    "config": _EVERY,
    "admin": (*_STORE, "root_key_file", "partition", "region", "audit_log"),
    "root-key": (*_STORE, "root_key_file", "region", "audit_log"),
    "db": _STORE,
    "audit": ("data_dir", "audit_log"),
    "backup": (
        "data_dir",
        "database_url",
        "region",
        "audit_log",
        "audit_max_bytes",
        "audit_backups",
    ),
    "restore": ("data_dir", "database_url", "root_key_file", "region", "audit_log"),
}
# Accepted before the command too: what the commands beside serve and config have in common
# with each other, so `qkms --data-dir d admin ...` reads as in other CLIs; the serve-only
# options stay with serve.
GLOBAL_SETTINGS = tuple(
    name
    for name in _EVERY
    if any(name in COMMAND_SETTINGS[command] for command in ("admin", "root-key", "db", "audit"))
)
_BY_NAME = {setting.name: setting for setting in SETTINGS}


def _help(setting: Setting) -> str:
    text = setting.help
    if "default" not in text and setting.default not in (None, ""):
        shown = setting.text(setting.default)
        text = f"{text} (default {shown})"
    return f"{text}; or {setting.env}".replace("%", "%%")


def _converter(setting: Setting) -> Any:
    if setting.kind == "ArnFormat" or setting.choices:
        return None  # argparse checks the choices; resolve() turns the text into the value
    return {"int": int, "float": float, "Path": Path}.get(setting.kind, str)


def add_setting_options(parser: argparse.ArgumentParser, names: tuple[str, ...]) -> None:
    """Add the options of `names`, and --config, to `parser`."""
    group = parser.add_argument_group("settings (command line > environment > config file)")
    group.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        metavar="FILE",
        help="TOML file of settings, keys named as the options (data_dir = ...); or QKMS_CONFIG",
    )
    for name in names:
        setting = _BY_NAME[name]
        kwargs: dict[str, Any] = {
            "dest": name,
            "default": argparse.SUPPRESS,
            "help": _help(setting),
        }
        if setting.choices:
            kwargs["choices"] = setting.choices
        if setting.repeatable:
            metavar = "FILE" if setting.name == "attestation_trust_root" else "CLASS=RATE"
            kwargs.update(action="append", metavar=metavar)
        elif setting.kind == "bool":
            kwargs["action"] = argparse.BooleanOptionalAction  # --access-log, --no-access-log
        elif (convert := _converter(setting)) is not None:
            kwargs["type"] = convert
        group.add_argument(setting.option, **kwargs)


def command_line_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings typed on the command line, as values of their fields."""
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if not hasattr(args, setting.name):
            continue
        value = getattr(args, setting.name)
        if setting.repeatable:
            # Given on the command line, --throttle replaces QKMS_THROTTLE rather than adding to it.
            value = ",".join(value)
        elif setting.kind == "ArnFormat":
            value = setting.parse(value)
        values[setting.name] = value
    return values


def refuse_foreign_settings(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Exit 2 (as argparse does) if an option was given to a command that does not use it."""
    taken = COMMAND_SETTINGS.get(args.command, ())
    foreign = [_BY_NAME[n].option for n in _EVERY if hasattr(args, n) and n not in taken]
    if foreign:
        parser.error(f"qkms {args.command} does not take {', '.join(foreign)}")

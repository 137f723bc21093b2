"""`qkms config show`: the effective settings as a TOML file would give them, secrets masked.

Each line says where its value came from (an option, a QKMS_* variable, the config file or the
default). A database URL's password is masked; secrets that only the environment carries (the
root keys, the admin secret) are listed as set or not, never shown.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from qkms.config import SETTINGS, Resolved

__all__ = ["add_config_commands", "mask_url", "show_config"]

_MASK = "****"
# Read from the environment only (qkms.app), never from a file or the command line.
_ENV_SECRETS = (
    "QKMS_ROOT_KEY",
    "QKMS_PREVIOUS_ROOT_KEY",
    "QKMS_NEW_ROOT_KEY",
    "QKMS_ADMIN_SECRET_ACCESS_KEY",
)


def add_config_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "config",
        help="show the effective settings",
        description="Settings come from the command line, then QKMS_* variables, then the "
        "--config file (or QKMS_CONFIG), then the defaults.",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser(
        "show", help="print the settings `qkms serve` would use, with their source; secrets masked"
    )


def mask_url(url: str) -> str:
    """The URL with its password (in the authority or a ?password= parameter) masked."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:{_MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, _MASK if k == "password" else v) for k, v in pairs], safe="*")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _toml(value: Any) -> str:
    if isinstance(value, bool | int | float):
        return str(value).lower() if isinstance(value, bool) else repr(value)
    return json.dumps(value if isinstance(value, str) else str(getattr(value, "value", value)))


def show_config(resolved: Resolved, config_file: Path | None, environ: Mapping[str, str]) -> str:
    lines = [f"# config file: {config_file if config_file is not None else 'none'}"]
    for setting in SETTINGS:
        value = getattr(resolved.settings, setting.name)
        source = resolved.sources[setting.name]
        if value is None:
            lines.append(f"# {setting.name} is not set  ({source})")
            continue
        if setting.name == "database_url":
            value = mask_url(value)
        lines.append(f"{setting.name} = {_toml(value)}  # {source}")
    for name in _ENV_SECRETS:
        state = f"set ({_MASK})" if environ.get(name) else "not set"
        lines.append(f"# {name}: {state}  (environment only)")
    return "\n".join(lines)

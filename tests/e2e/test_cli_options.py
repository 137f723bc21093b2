"""The `qkms` command line: a setting option is the same option before or after the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.server import run_qkms as qkms

pytestmark = pytest.mark.e2e

ACCOUNT = "444455556666"


def users(data_dir: Path) -> list[str]:
    listed = qkms("admin", "list-users", "--account", ACCOUNT, "--data-dir", str(data_dir))
    assert listed.returncode == 0, listed.stderr
    return [user["UserName"] for user in json.loads(listed.stdout)["Users"]]


@pytest.mark.parametrize("where", ["before the command", "after the command", "after the action"])
def test_data_dir_is_accepted_before_or_after_the_command(tmp_path: Path, where: str) -> None:
    data_dir = tmp_path / "data"
    option = ["--data-dir", str(data_dir)]
    action = ["create-user", "--account", ACCOUNT, "--user", "bob"]
    args = {
        "before the command": [*option, "admin", *action],
        "after the command": ["admin", *option, *action],
        "after the action": ["admin", *action, *option],
    }[where]

    created = qkms(*args)

    assert created.returncode == 0, created.stderr
    assert users(data_dir) == ["bob"]


def test_the_option_nearest_the_action_wins(tmp_path: Path) -> None:
    near, far = tmp_path / "near", tmp_path / "far"
    created = qkms(
        "--data-dir", str(far), "admin", "create-user", "--account", ACCOUNT, "--user", "bob",
        "--data-dir", str(near),
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert users(near) == ["bob"]
    assert not far.exists()


def test_db_upgrade_takes_its_store_options_after_the_action(tmp_path: Path) -> None:
    upgraded = qkms("db", "upgrade", "--data-dir", str(tmp_path / "d"), "--store-timeout", "5")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.startswith("schema version ")


def test_an_option_the_command_does_not_use_is_refused(tmp_path: Path) -> None:
    refused = qkms("--partition", "aws", "audit", "tail", "--data-dir", str(tmp_path))
    assert refused.returncode == 2
    assert "qkms audit does not take --partition" in refused.stderr


def test_every_admin_option_has_help() -> None:
    for action in ("create-user", "put-user-policy", "delete-access-key", "list-users"):
        shown = qkms("admin", action, "--help")
        assert shown.returncode == 0
        lines = [*shown.stdout.splitlines(), ""]
        options = [i for i, line in enumerate(lines) if line.startswith("  --")]
        # argparse prints an option's help after it, or on the next line if the name is long.
        bare = [
            lines[i]
            for i in options
            if len(lines[i].split()) <= 2 and not lines[i + 1].startswith(" " * 8)
        ]
        assert options and bare == [], shown.stdout

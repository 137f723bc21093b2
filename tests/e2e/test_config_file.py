"""`qkms serve --config FILE` and `qkms config show`: command line > environment > file > defaults."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.server import QkmsServer
from tests.e2e.server import run_qkms as qkms

pytestmark = pytest.mark.e2e

ROOT_KEY = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="


def shown(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """`qkms config show` as {name: 'value  # source'}."""
    assert result.returncode == 0, result.stderr
    return {
        line.split(" = ", 1)[0]: line.split(" = ", 1)[1]
        for line in result.stdout.splitlines()
        if " = " in line and not line.startswith("#")
    }


def one_line_refusal(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_each_level_wins_over_the_ones_below(tmp_path: Path) -> None:
    config = tmp_path / "qkms.toml"
    config.write_text('port = 1111\nregion = "eu-west-1"\npartition = "file-partition"\n')

    settings = shown(
        qkms(
            "config", "show", "--config", str(config), "--port", "3333",
            env={"QKMS_PORT": "2222", "QKMS_REGION": "ap-south-1"},
        )
    )  # fmt: skip

    assert settings["port"] == "3333  # --port"
    assert settings["region"] == '"ap-south-1"  # QKMS_REGION'
    assert settings["partition"] == f'"file-partition"  # {config}'
    assert settings["key_cache_size"] == "100000  # default"


def test_qkms_config_names_the_file_too(tmp_path: Path) -> None:
    config = tmp_path / "qkms.toml"
    config.write_text('data_dir = "/srv/qkms"\nthrottle = ["ecc=500", "CreateKey=2"]\n')
    settings = shown(qkms("config", "show", env={"QKMS_CONFIG": str(config)}))
    assert settings["data_dir"] == f'"/srv/qkms"  # {config}'
    assert settings["throttle"] == f'"ecc=500,CreateKey=2"  # {config}'


def test_serve_runs_with_the_files_settings_in_every_worker(tmp_path: Path) -> None:
    config = tmp_path / "qkms.toml"
    config.write_text('arn_format = "aws"\npartition = "qtest"\nregion = "eu-central-1"\n')
    server = QkmsServer(tmp_path / "data", workers=2, extra_args=["--config", str(config)])
    server.start()
    try:
        # A key belongs to its creating request's region (DESIGN §4a): sign for the file's
        # region; the partition, which only the settings decide, shows each worker read them.
        client = server.client(region="eu-central-1")
        for _ in range(4):  # reaches both workers, most likely; each must agree
            arn = client.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")[
                "KeyMetadata"
            ]["Arn"]
            assert arn.startswith("arn:qtest:kms:eu-central-1:111122223333:key/")
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        ("prot = 4580\n", "unknown setting 'prot'; did you mean 'port'?"),
        ('data-dir = "d"\n', "unknown setting 'data-dir'; did you mean 'data_dir'?"),
        ("[server]\nport = 1\n", "unknown setting 'server'"),
    ],
)
def test_an_unknown_key_is_named(tmp_path: Path, content: str, phrase: str) -> None:
    config = tmp_path / "qkms.toml"
    config.write_text(content)
    line = one_line_refusal(qkms("serve", "--config", str(config), "--data-dir", str(tmp_path)))
    assert phrase in line and str(config) in line


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        ('port = "abc"\n', "port = 'abc' is not valid: expected a whole number."),
        ("port = 45.8\n", "port = 45.8 is not valid: expected a whole number."),
        ("store_timeout = true\n", "store_timeout = True is not valid: expected a number."),
        ('arn_format = "long"\n', "arn_format = 'long' is not valid: expected 'seed' or 'aws'."),
        ("throttle = [1]\n", "throttle = [1] is not valid"),
        ("port = \n", "is not valid TOML"),
    ],
)
def test_a_value_of_the_wrong_type_is_named(tmp_path: Path, content: str, phrase: str) -> None:
    config = tmp_path / "qkms.toml"
    config.write_text(content)
    data_dir = tmp_path / "data"
    line = one_line_refusal(qkms("serve", "--config", str(config), "--data-dir", str(data_dir)))
    assert phrase in line
    assert not data_dir.exists()


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    line = one_line_refusal(qkms("config", "show", env={"QKMS_CONFIG": str(missing)}))
    assert str(missing) in line and "cannot be read" in line


def test_config_show_masks_every_secret(tmp_path: Path) -> None:
    config = tmp_path / "qkms.toml"
    url = "postgresql://qkms:hunter2@db.example:5432/kms?schema=a&password=swordfish"
    config.write_text(f'database_url = "{url}"\n')
    admin_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    result = qkms(
        "config", "show", "--config", str(config),
        env={"QKMS_ROOT_KEY": ROOT_KEY, "QKMS_ADMIN_SECRET_ACCESS_KEY": admin_secret},
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    for secret in ("hunter2", "swordfish", ROOT_KEY, admin_secret):
        assert secret not in result.stdout
    settings = shown(result)
    assert settings["database_url"].startswith(
        '"postgresql://qkms:****@db.example:5432/kms?schema=a&password=****"'
    )
    assert "# QKMS_ROOT_KEY: set (****)" in result.stdout
    assert "# QKMS_ADMIN_SECRET_ACCESS_KEY: set (****)" in result.stdout
    assert "# QKMS_PREVIOUS_ROOT_KEY: not set" in result.stdout


def test_admin_finds_the_data_dir_in_the_config_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    config = tmp_path / "qkms.toml"
    config.write_text(f'data_dir = "{data_dir}"\n')
    created = qkms(
        "admin", "create-user", "--account", "444455556666", "--user", "bob",
        env={"QKMS_CONFIG": str(config)},
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert (data_dir / "qkms.db").exists()

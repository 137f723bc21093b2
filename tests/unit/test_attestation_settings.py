"""--attestation-trust-root and --attestation-max-age: one declaration each, every source works,
and what the server then trusts (DESIGN §3 "Recipients")."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from qkms.app import StartupError, _attestation_trust
from qkms.cli.options import add_setting_options, command_line_settings
from qkms.config import ConfigError, Settings, read_config_file, resolve
from qkms.crypto import AWS_NITRO_ENCLAVES_ROOT_G1_PEM
from tests.enclave import EnclavePKI


def test_the_default_is_the_aws_nitro_root_and_five_minutes() -> None:
    trust = _attestation_trust(Settings())
    assert [root.public_bytes(Encoding.PEM) for root in trust.roots] == [
        AWS_NITRO_ENCLAVES_ROOT_G1_PEM
    ]
    assert trust.max_age == timedelta(seconds=300)


def test_roots_from_every_source_replace_the_default(tmp_path: Path) -> None:
    first, second = EnclavePKI.create(), EnclavePKI.create()
    (tmp_path / "a.pem").write_bytes(first.root.pem)
    (tmp_path / "b.pem").write_bytes(second.root.pem)
    a, b = str(tmp_path / "a.pem"), str(tmp_path / "b.pem")

    parser = argparse.ArgumentParser()
    add_setting_options(parser, ("attestation_trust_root", "attestation_max_age"))
    typed = parser.parse_args(
        [
            "--attestation-trust-root",
            a,
            "--attestation-trust-root",
            b,
            "--attestation-max-age",
            "60",
        ]
    )
    from_cli = resolve(command_line_settings(typed), {}, {}).settings
    from_env = Settings.from_env(
        {"QKMS_ATTESTATION_TRUST_ROOT": f"{a},{b}", "QKMS_ATTESTATION_MAX_AGE": "60"}
    )
    config = tmp_path / "qkms.toml"
    config.write_text(f'attestation_trust_root = ["{a}", "{b}"]\nattestation_max_age = 60\n')
    from_file = resolve({}, {}, read_config_file(config)).settings
    for settings in (from_cli, from_env, from_file):
        trust = _attestation_trust(settings)
        assert list(trust.roots) == [first.root.certificate, second.root.certificate]
        assert trust.max_age == timedelta(seconds=60)


def test_an_unusable_root_file_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "not.pem").write_text("not a certificate")
    for name in ("not.pem", "missing.pem"):
        settings = Settings(attestation_trust_root=str(tmp_path / name))
        with pytest.raises(StartupError, match=r"attestation trust root|not a PEM"):
            _attestation_trust(settings)


@pytest.mark.parametrize("age", [0.0, -1.0])
def test_the_maximum_age_must_be_positive(age: float) -> None:
    with pytest.raises(ConfigError, match="--attestation-max-age"):
        Settings(attestation_max_age=age).validate()

"""Attested recipients end to end (DESIGN §3 "Recipients"): boto3 against `qkms serve` that
trusts the test enclave's root; the enclave (and `openssl cms`) open what comes back."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.e2e.server import ADMIN_ACCESS_KEY_ID, ADMIN_SECRET, QkmsServer, raw_call
from tests.e2e.support import ACCOUNT_A, error_of, make_person, policy, root_statement
from tests.enclave import EnclaveKey, EnclavePKI, attestation_document, parse_ber, shape
from tests.peer_keys import public_key_der

pytestmark = pytest.mark.e2e

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "nitro"
PCR0 = bytes.fromhex("ab" * 48)
OTHER_PCR0 = bytes.fromhex("cd" * 48)


@pytest.fixture(scope="module")
def pki() -> EnclavePKI:
    return EnclavePKI.create(datetime.now(UTC))


@pytest.fixture(scope="module")
def enclave_key() -> EnclaveKey:
    return EnclaveKey.create()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pki: EnclavePKI) -> Iterator[QkmsServer]:
    root = tmp_path_factory.mktemp("trust") / "enclave-root.pem"
    root.write_bytes(pki.root.pem)
    qkms = QkmsServer(
        tmp_path_factory.mktemp("recipients") / "data",
        extra_args=["--attestation-trust-root", str(root), "--attestation-max-age", "120"],
    ).start()
    yield qkms
    qkms.stop()


@pytest.fixture(scope="module")
def aws_root_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    qkms = QkmsServer(tmp_path_factory.mktemp("aws-root") / "data").start()
    yield qkms
    qkms.stop()


def document(pki: EnclavePKI, key: EnclaveKey, pcr0: bytes = PCR0) -> bytes:
    return attestation_document(
        pki, public_key=key.spki, pcrs={0: pcr0, 1: b"\x01" * 48}, timestamp=datetime.now(UTC)
    )


def recipient(pki: EnclavePKI, key: EnclaveKey, pcr0: bytes = PCR0) -> dict[str, Any]:
    return {
        "KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256",
        "AttestationDocument": document(pki, key, pcr0),
    }


@pytest.fixture(scope="module")
def agreement_key(kms: Any) -> str:
    return str(
        kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
    )


def test_derive_for_a_recipient_gives_the_same_secret_only_in_the_envelope(
    kms: Any, pki: EnclavePKI, enclave_key: EnclaveKey, agreement_key: str, tmp_path: Path
) -> None:
    peer = public_key_der(ec.generate_private_key(ec.SECP256R1()).public_key())
    clear = kms.derive_shared_secret(
        KeyId=agreement_key, KeyAgreementAlgorithm="ECDH", PublicKey=peer
    )["SharedSecret"]
    response = kms.derive_shared_secret(
        KeyId=agreement_key,
        KeyAgreementAlgorithm="ECDH",
        PublicKey=peer,
        Recipient=recipient(pki, enclave_key),
    )
    assert "SharedSecret" not in response
    envelope = response["CiphertextForRecipient"]
    assert clear not in envelope
    assert enclave_key.open(envelope) == clear

    # The layout of a real KMS response, node for node (32-byte secret, RSA-2048).
    sample = (TESTDATA / "kms-ciphertext-for-recipient.ber").read_bytes()
    assert shape(parse_ber(envelope)) == shape(parse_ber(sample))

    # OpenSSL opens it too, independently of the test enclave's decoder.
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    (tmp_path / "env.ber").write_bytes(envelope)
    (tmp_path / "key.pem").write_bytes(enclave_key.pem)
    opened = subprocess.run(
        [openssl, "cms", "-decrypt", "-binary", "-inform", "DER", "-in",
         str(tmp_path / "env.ber"), "-inkey", str(tmp_path / "key.pem")],
        capture_output=True, check=True, timeout=30,
    )  # fmt: skip
    assert opened.stdout == clear


def test_the_seed_recipient_info_blob_works_the_same(
    server: QkmsServer, kms: Any, pki: EnclavePKI, enclave_key: EnclaveKey, agreement_key: str
) -> None:
    peer = public_key_der(ec.generate_private_key(ec.SECP256R1()).public_key())
    clear = kms.derive_shared_secret(
        KeyId=agreement_key, KeyAgreementAlgorithm="ECDH", PublicKey=peer
    )["SharedSecret"]
    body = {
        "KeyId": agreement_key,
        "PublicKey": base64.b64encode(peer).decode(),
        "RecipientInfo": base64.b64encode(document(pki, enclave_key)).decode(),
    }
    answer = raw_call(server.endpoint, "DeriveSharedSecret", body)
    assert answer.status == 200, answer.body
    payload = answer.json()
    assert "SharedSecret" not in payload
    assert enclave_key.open(base64.b64decode(payload["CiphertextForRecipient"])) == clear

    both = dict(body, Recipient={"AttestationDocument": body["RecipientInfo"]})
    refused = raw_call(server.endpoint, "DeriveSharedSecret", both)
    assert refused.status == 400
    assert refused.json()["__type"] == "ValidationException"


def test_decrypt_data_keys_and_random_for_a_recipient(
    kms: Any, pki: EnclavePKI, enclave_key: EnclaveKey
) -> None:
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"for the enclave only")["CiphertextBlob"]
    decrypted = kms.decrypt(CiphertextBlob=blob, Recipient=recipient(pki, enclave_key))
    assert "Plaintext" not in decrypted
    assert enclave_key.open(decrypted["CiphertextForRecipient"]) == b"for the enclave only"

    data_key = kms.generate_data_key(
        KeyId=key_id, KeySpec="AES_256", Recipient=recipient(pki, enclave_key)
    )
    assert "Plaintext" not in data_key
    opened = enclave_key.open(data_key["CiphertextForRecipient"])
    assert kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"] == opened

    pair = kms.generate_data_key_pair(
        KeyId=key_id, KeyPairSpec="ECC_NIST_P256", Recipient=recipient(pki, enclave_key)
    )
    assert "PrivateKeyPlaintext" not in pair
    private = enclave_key.open(pair["CiphertextForRecipient"])
    assert kms.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"])["Plaintext"] == private

    random = kms.generate_random(NumberOfBytes=40, Recipient=recipient(pki, enclave_key))
    assert "Plaintext" not in random
    assert len(enclave_key.open(random["CiphertextForRecipient"])) == 40


def test_refusals_name_the_check_and_never_fall_back_to_plaintext(
    kms: Any, pki: EnclavePKI, enclave_key: EnclaveKey, agreement_key: str
) -> None:
    peer = public_key_der(ec.generate_private_key(ec.SECP256R1()).public_key())

    def derive(given: dict[str, Any]) -> Any:
        return kms.derive_shared_secret(
            KeyId=agreement_key, KeyAgreementAlgorithm="ECDH", PublicKey=peer, Recipient=given
        )

    good = recipient(pki, enclave_key)
    flipped = bytearray(good["AttestationDocument"])
    flipped[-5] ^= 1  # inside the signature
    no_key = attestation_document(pki, public_key=None, timestamp=datetime.now(UTC))
    other_pki = EnclavePKI.create(datetime.now(UTC))
    cases = {
        "does not verify": dict(good, AttestationDocument=bytes(flipped)),
        "has no public key": dict(good, AttestationDocument=no_key),
        "does not parse": dict(good, AttestationDocument=b"not a document"),
        "trusted root": recipient(other_pki, enclave_key),
    }
    for words, given in cases.items():

        def attempt(given: dict[str, Any] = given) -> Any:
            return derive(given)

        code, message = error_of(attempt)
        assert code == "ValidationException"
        assert words in message, message
    code, message = error_of(lambda: derive(dict(good, KeyEncryptionAlgorithm="RSAES_OAEP_SHA_1")))
    assert code == "ValidationException"
    assert "Member must satisfy enum value set: [RSAES_OAEP_SHA_256]" in message


def test_the_real_nitro_document_is_refused_under_the_aws_root(
    aws_root_server: QkmsServer,
) -> None:
    kms = aws_root_server.client()
    real = bytes.fromhex((TESTDATA / "sui-attestation-document.hex").read_text().strip())
    code, message = error_of(
        lambda: kms.generate_random(
            NumberOfBytes=32,
            Recipient={"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "AttestationDocument": real},
        )
    )
    assert code == "ValidationException"
    assert "expired" in message, message


def test_a_key_policy_on_pcr0_allows_that_image_only(
    server: QkmsServer, kms: Any, pki: EnclavePKI, enclave_key: EnclaveKey
) -> None:
    person = make_person(server, ACCOUNT_A, "enclave-host")
    key_policy = policy(
        root_statement(),
        {
            "Effect": "Allow",
            "Principal": {"AWS": person.arn},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {
                "StringEqualsIgnoreCase": {"kms:RecipientAttestation:PCR0": PCR0.hex().upper()}
            },
        },
    )
    key_id = kms.create_key(Policy=key_policy)["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    client = person.client
    allowed = client.decrypt(CiphertextBlob=blob, Recipient=recipient(pki, enclave_key))
    assert enclave_key.open(allowed["CiphertextForRecipient"]) == b"x"
    other = recipient(pki, enclave_key, OTHER_PCR0)
    assert error_of(lambda: client.decrypt(CiphertextBlob=blob, Recipient=other))[0] == (
        "AccessDeniedException"
    )
    assert error_of(lambda: client.decrypt(CiphertextBlob=blob))[0] == "AccessDeniedException"


def test_the_audit_event_names_the_recipient_not_its_document(
    server: QkmsServer, kms: Any, pki: EnclavePKI, enclave_key: EnclaveKey
) -> None:
    kms.generate_random(NumberOfBytes=16, Recipient=recipient(pki, enclave_key))
    lines = (server.data_dir / "audit.log").read_text().splitlines()
    event = json.loads(
        next(line for line in reversed(lines) if '"eventName":"GenerateRandom"' in line)
    )
    details = event["additionalEventData"]["recipient"]
    assert details["attestationDocumentModuleId"].startswith("i-")
    assert details["attestationDocumentEnclaveImageDigest"] == base64.b64encode(PCR0).decode()
    assert "attestationDocument" not in json.dumps(event["requestParameters"])
    assert event["responseElements"] in ({}, None)


def test_the_documented_example_runs_as_written(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "docs" / "recipients-example.py"
    pki_dir = tmp_path / "pki"
    subprocess.run([sys.executable, str(example), "init", str(pki_dir)], check=True, timeout=60)
    qkms = QkmsServer(
        tmp_path / "data",
        extra_args=["--attestation-trust-root", str(pki_dir / "root.pem")],
    ).start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "QKMS_"))}
        env.update(
            QKMS_ENDPOINT=qkms.endpoint,
            AWS_ACCESS_KEY_ID=ADMIN_ACCESS_KEY_ID,
            AWS_SECRET_ACCESS_KEY=ADMIN_SECRET,
        )
        done = subprocess.run(
            [sys.executable, str(example), "run", str(pki_dir)],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip
    finally:
        qkms.stop()
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "SharedSecret in the answer: False",
        "enclave's secret equals the clear one: True",
    ]

"""A real consumer of DeriveSharedSecret: the AWS Encryption SDK's AWS KMS ECDH keyring.

aws-encryption-sdk 4.x with the AWS Cryptographic Material Providers Library (MPL) and a plain
boto3 KMS client pointed at `qkms serve --arn-format aws`. The sender encrypts with a
`KmsPrivateKeyToStaticPublicKey` keyring (its QKMS key, the recipient's public key); the
recipient decrypts with a `KmsPublicKeyDiscovery` keyring on its own QKMS key.

What the library insists on, all of which QKMS must satisfy (MPL 1.11.3, AwsKmsUtils and
AwsKmsEcdhKeyring):
- key identifiers parse as six-part ARNs with service `kms` (any non-empty partition, so
  `verenc` is fine; the seed shape `arn:verenc:<account>:key/<id>` is "Malformed arn");
- GetPublicKey answers with `KeyId` equal to the identifier sent, `KeyUsage` exactly
  `KEY_AGREEMENT`, and a `PublicKey`; every enum in the answer must be one AWS defines;
- DeriveSharedSecret answers with `KeyId` equal to the identifier sent, `SharedSecret`, and
  `KeyAgreementAlgorithm` `ECDH`.
Every request the library sends is captured on the wire (boto3 `before-send`) and checked.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aws_encryption_sdk
import pytest
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
from aws_cryptographic_material_providers.mpl.errors import (
    AwsCryptographicMaterialProvidersException,
    CollectionOfErrors,
    ComAmazonawsKms,
    ServiceError,
)
from aws_cryptographic_material_providers.mpl.models import (
    CreateAwsKmsEcdhKeyringInput,
    KmsEcdhStaticConfigurationsKmsPrivateKeyToStaticPublicKey,
    KmsEcdhStaticConfigurationsKmsPublicKeyDiscovery,
    KmsPrivateKeyToStaticPublicKeyInput,
    KmsPublicKeyDiscoveryInput,
)
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.exceptions import AWSEncryptionSDKClientError

from tests.e2e.server import QkmsServer, kms_client

pytestmark = pytest.mark.e2e

# ECDHCurveSpec in this MPL knows P-256, P-384, P-521 and SM2; not ECC_SECG_P256K1.
CURVES = ["ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521"]
CONTEXT = {"purpose": "qkms-e2e", "tenant": "example"}
MPL = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
ESDK = aws_encryption_sdk.EncryptionSDKClient(
    commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
)


@pytest.fixture(scope="module")
def qkms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    server = QkmsServer(
        tmp_path_factory.mktemp("esdk") / "data", extra_args=["--arn-format", "aws"]
    ).start()
    yield server
    server.stop()


@dataclass
class Kms:
    """A boto3 KMS client and every request it put on the wire: (operation, JSON body)."""

    client: Any
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def ops(self) -> list[str]:
        return [op for op, _ in self.sent]

    def bodies(self, operation: str) -> list[dict[str, Any]]:
        return [body for op, body in self.sent if op == operation]

    def create_key(self, spec: str, usage: str = "KEY_AGREEMENT") -> str:
        arn: str = self.client.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]["Arn"]
        return arn

    def public_key(self, arn: str) -> bytes:
        response = self.client.get_public_key(KeyId=arn)
        assert response["KeyId"] == arn
        assert response["KeyUsage"] == "KEY_AGREEMENT"
        der: bytes = response["PublicKey"]
        return der


@pytest.fixture
def kms(qkms: QkmsServer) -> Kms:
    client = kms_client(qkms.endpoint)
    kms = Kms(client)

    def record(request: Any, **_: Any) -> None:
        operation = request.headers["X-Amz-Target"].decode().removeprefix("TrentService.")
        kms.sent.append((operation, json.loads(request.body)))

    client.meta.events.register("before-send.kms", record)
    return kms


def sender_keyring(kms: Kms, curve: str, sender_arn: str, recipient_public_key: bytes) -> Any:
    return MPL.create_aws_kms_ecdh_keyring(
        CreateAwsKmsEcdhKeyringInput(
            kms_client=kms.client,
            curve_spec=curve,
            key_agreement_scheme=KmsEcdhStaticConfigurationsKmsPrivateKeyToStaticPublicKey(
                KmsPrivateKeyToStaticPublicKeyInput(
                    sender_kms_identifier=sender_arn,
                    recipient_public_key=recipient_public_key,
                )
            ),
        )
    )


def discovery_keyring(kms: Kms, curve: str, recipient_arn: str) -> Any:
    return MPL.create_aws_kms_ecdh_keyring(
        CreateAwsKmsEcdhKeyringInput(
            kms_client=kms.client,
            curve_spec=curve,
            key_agreement_scheme=KmsEcdhStaticConfigurationsKmsPublicKeyDiscovery(
                KmsPublicKeyDiscoveryInput(recipient_kms_identifier=recipient_arn)
            ),
        )
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def encrypt(kms: Kms, curve: str, plaintext: bytes) -> tuple[bytes, str, bytes, str, bytes]:
    """Sender -> recipient message; returns (ciphertext, sender arn/pub, recipient arn/pub)."""
    sender, recipient = kms.create_key(curve), kms.create_key(curve)
    sender_pub, recipient_pub = kms.public_key(sender), kms.public_key(recipient)
    keyring = sender_keyring(kms, curve, sender, recipient_pub)
    ciphertext, _ = ESDK.encrypt(source=plaintext, keyring=keyring, encryption_context=CONTEXT)
    return ciphertext, sender, sender_pub, recipient, recipient_pub


@pytest.mark.parametrize("curve", CURVES)
def test_recipient_decrypts_what_sender_encrypted(kms: Kms, curve: str) -> None:
    plaintext = f"to the recipient on {curve}".encode()
    sender, recipient = kms.create_key(curve), kms.create_key(curve)
    sender_pub, recipient_pub = kms.public_key(sender), kms.public_key(recipient)
    kms.sent.clear()

    encrypting = sender_keyring(kms, curve, sender, recipient_pub)
    # Without sender_public_key the keyring fetches it: GetPublicKey with the ARN alone.
    assert kms.sent == [("GetPublicKey", {"KeyId": sender})]
    ciphertext, header = ESDK.encrypt(
        source=plaintext, keyring=encrypting, encryption_context=CONTEXT
    )
    assert ciphertext != plaintext
    assert CONTEXT.items() <= header.encryption_context.items()
    [edk] = header.encrypted_data_keys
    assert edk.key_provider.provider_id == "aws-kms-ecdh"
    # Exactly these members, GrantTokens an empty list, the recipient's DER as given.
    assert kms.sent[1:] == [
        (
            "DeriveSharedSecret",
            {
                "KeyId": sender,
                "KeyAgreementAlgorithm": "ECDH",
                "PublicKey": b64(recipient_pub),
                "GrantTokens": [],
            },
        )
    ]

    kms.sent.clear()
    decrypting = discovery_keyring(kms, curve, recipient)
    decrypted, decrypt_header = ESDK.decrypt(source=ciphertext, keyring=decrypting)
    assert decrypted == plaintext
    assert CONTEXT.items() <= decrypt_header.encryption_context.items()
    # The recipient side derives with its own key against the sender's public key, which the
    # keyring read (compressed) from the message and re-encoded as DER.
    assert kms.sent == [
        ("GetPublicKey", {"KeyId": recipient}),
        (
            "DeriveSharedSecret",
            {
                "KeyId": recipient,
                "KeyAgreementAlgorithm": "ECDH",
                "PublicKey": b64(sender_pub),
                "GrantTokens": [],
            },
        ),
    ]

    # The sender can read its own message back with the same static keyring.
    kms.sent.clear()
    again, _ = ESDK.decrypt(source=ciphertext, keyring=encrypting)
    assert again == plaintext
    assert kms.ops() == ["DeriveSharedSecret"]
    assert kms.bodies("DeriveSharedSecret")[0]["KeyId"] == sender
    assert kms.bodies("DeriveSharedSecret")[0]["PublicKey"] == b64(recipient_pub)


def test_wrong_encryption_context_is_refused(kms: Kms) -> None:
    ciphertext, _, _, recipient, _ = encrypt(kms, "ECC_NIST_P256", b"bound to its context")
    with pytest.raises(AWSEncryptionSDKClientError, match="does not match reproduced"):
        ESDK.decrypt(
            source=ciphertext,
            keyring=discovery_keyring(kms, "ECC_NIST_P256", recipient),
            encryption_context={**CONTEXT, "tenant": "someone-else"},
        )


@pytest.mark.parametrize("curve", ["ECC_NIST_P256", "ECC_NIST_P384"])
def test_unrelated_key_cannot_decrypt(kms: Kms, curve: str) -> None:
    ciphertext, *_ = encrypt(kms, curve, b"not for the third key")
    unrelated = discovery_keyring(kms, curve, kms.create_key(curve))
    kms.sent.clear()
    with pytest.raises(AWSEncryptionSDKClientError) as caught:
        ESDK.decrypt(source=ciphertext, keyring=unrelated)
    # The keyring finds no data key addressed to its public key, so it never asks QKMS.
    assert "DeriveSharedSecret" not in kms.ops()
    cause = caught.value.args[0]
    assert isinstance(cause, AwsCryptographicMaterialProvidersException)
    # The intended message is "Unable to decrypt data key: No Encrypted Data Keys found to
    # match ..."; MPL 1.11.3 fails while building it (ErrorMessages.IncorrectDataKeys UTF-8
    # decodes the binary aws-kms-ecdh provider info) and reports the decoding error instead.
    assert cause.message == "Could not decode input from Dafny Bytes." or cause.message.startswith(
        "Unable to decrypt data key: No Encrypted Data Keys found to match"
    )


def test_disabled_recipient_key_cannot_decrypt(kms: Kms) -> None:
    ciphertext, _, _, recipient, _ = encrypt(kms, "ECC_NIST_P256", b"recipient disabled")
    keyring = discovery_keyring(kms, "ECC_NIST_P256", recipient)
    kms.client.disable_key(KeyId=recipient)
    with pytest.raises(AWSEncryptionSDKClientError) as caught:
        ESDK.decrypt(source=ciphertext, keyring=keyring)
    cause = caught.value.args[0]
    assert isinstance(cause, CollectionOfErrors)
    assert cause.message.startswith("No Configured KMS Key was able to decrypt the Data Key")
    [kms_error] = cause.list
    assert isinstance(kms_error, ComAmazonawsKms)
    assert kms_error.message == f"{recipient} is disabled."


def test_derive_shared_secret_spelling_is_refused_by_the_library(kms: Kms) -> None:
    """DESIGN §2: the seed spelling is reported as such, and AWS clients do not know it."""
    key = kms.create_key("ECC_NIST_P256", usage="DERIVE_SHARED_SECRET")
    assert kms.client.get_public_key(KeyId=key)["KeyUsage"] == "DERIVE_SHARED_SECRET"
    recipient_pub = kms.public_key(kms.create_key("ECC_NIST_P256"))
    # The MPL's KMS shim maps KeyUsage onto AWS's enum before its KEY_AGREEMENT check.
    refusal = "No recognized enum value in enum type: DERIVE_SHARED_SECRET"
    with pytest.raises(ServiceError, match=refusal):
        discovery_keyring(kms, "ECC_NIST_P256", key)
    with pytest.raises(ServiceError, match=refusal):
        sender_keyring(kms, "ECC_NIST_P256", key, recipient_pub)


def test_seed_arn_shape_is_malformed_for_the_library(kms: Kms) -> None:
    """DESIGN §2: why `--arn-format aws` exists; refused locally, nothing is sent."""
    arn = kms.create_key("ECC_NIST_P256")
    seed_arn = arn.replace(":kms:us-east-1:", ":")
    assert seed_arn.startswith("arn:verenc:111122223333:key/")
    kms.sent.clear()
    with pytest.raises(AwsCryptographicMaterialProvidersException, match="Malformed arn"):
        discovery_keyring(kms, "ECC_NIST_P256", seed_arn)
    assert kms.sent == []


def test_library_requires_response_key_id_to_equal_the_one_sent(kms: Kms) -> None:
    """A bare key id is sent as is; QKMS (like AWS) answers with the ARN, which the MPL refuses."""
    arn = kms.create_key("ECC_NIST_P256")
    key_id = arn.rsplit("/", 1)[1]
    kms.sent.clear()
    with pytest.raises(
        AwsCryptographicMaterialProvidersException, match="Invalid response from KMS GetPublicKey"
    ):
        discovery_keyring(kms, "ECC_NIST_P256", key_id)
    assert kms.sent == [("GetPublicKey", {"KeyId": key_id})]


def test_secp256k1_is_not_a_curve_of_this_library(kms: Kms) -> None:
    sender = kms.create_key("ECC_SECG_P256K1")
    recipient_pub = kms.public_key(kms.create_key("ECC_SECG_P256K1"))
    kms.sent.clear()
    with pytest.raises(ServiceError, match="ECC_SECG_P256K1"):
        sender_keyring(kms, "ECC_SECG_P256K1", sender, recipient_pub)
    assert kms.sent == []

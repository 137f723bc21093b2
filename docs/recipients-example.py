"""An attested recipient end to end: a stand-in "enclave" asks QKMS for a shared secret it alone
can read.

Needs `pip install boto3 cryptography cbor2`, OpenSSL 3 on the PATH, and two steps:

    python recipients-example.py init pki/          # the attestation root this enclave uses
    qkms serve --attestation-trust-root pki/root.pem &
    export QKMS_ENDPOINT=http://127.0.0.1:4580
    export AWS_SHARED_CREDENTIALS_FILE=<data-dir>/credentials AWS_PROFILE=qkms
    python recipients-example.py run pki/

On a real Nitro enclave the NSM signs the document and QKMS trusts the AWS root by default;
here the script plays the attesting hardware with its own root, as any attested workload with
its own PKI would.
"""

import datetime
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import boto3
import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.UTC)
PCR0 = bytes(48)  # the image digest a key policy may require


def certificate(name, key, issuer_name, signer, days, *, ca):
    usage = dict.fromkeys(
        ["content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
         "encipher_only", "decipher_only"], False,
    )  # fmt: skip
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(hours=1))
        .not_valid_after(NOW + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=ca, crl_sign=ca, **usage),
            critical=True,
        )
    )
    if ca:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    return builder.sign(signer, hashes.SHA384())


def init(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example attestation root")])
    root = certificate("example attestation root", key, name, key, 3650, ca=True)
    (directory / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    (directory / "root-key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    print(f"start the server with: qkms serve --attestation-trust-root {directory / 'root.pem'}")


def attestation_document(directory: Path, public_key_der: bytes) -> bytes:
    """What the NSM returns: a COSE_Sign1 (ES384) over the claims, signed by a fresh leaf."""
    root_key = serialization.load_pem_private_key((directory / "root-key.pem").read_bytes(), None)
    root = x509.load_pem_x509_certificate((directory / "root.pem").read_bytes())
    leaf_key = ec.generate_private_key(ec.SECP384R1())
    leaf = certificate("example enclave", leaf_key, root.subject, root_key, 1, ca=False)
    payload = cbor2.dumps(
        {
            "module_id": "i-0123456789abcdef0-enc0123456789abcdef",
            "digest": "SHA384",
            "timestamp": int(NOW.timestamp() * 1000),
            "pcrs": {0: PCR0, 1: bytes(48), 2: bytes(48)},
            "certificate": leaf.public_bytes(serialization.Encoding.DER),
            "cabundle": [root.public_bytes(serialization.Encoding.DER)],
            "public_key": public_key_der,
            "user_data": None,
            "nonce": None,
        }
    )
    protected = cbor2.dumps({1: -35})  # ES384
    to_sign = cbor2.dumps(["Signature1", protected, b"", payload])
    r, s = decode_dss_signature(leaf_key.sign(to_sign, ec.ECDSA(hashes.SHA384())))
    return cbor2.dumps([protected, {}, payload, r.to_bytes(48, "big") + s.to_bytes(48, "big")])


def run(directory: Path) -> None:
    kms = boto3.client(
        "kms",
        endpoint_url=os.environ["QKMS_ENDPOINT"],
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )
    key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"][
        "KeyId"
    ]
    peer = ec.generate_private_key(ec.SECP256R1()).public_key()
    peer_der = peer.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    # The enclave's own RSA key: its public half goes into the attestation document.
    enclave_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    document = attestation_document(
        directory,
        enclave_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )
    answer = kms.derive_shared_secret(
        KeyId=key_id,
        KeyAgreementAlgorithm="ECDH",
        PublicKey=peer_der,
        Recipient={"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "AttestationDocument": document},
    )
    print("SharedSecret in the answer:", "SharedSecret" in answer)

    # Only the enclave's private key opens CiphertextForRecipient (CMS EnvelopedData).
    with tempfile.TemporaryDirectory() as tmp:
        envelope, key_pem = Path(tmp, "env.ber"), Path(tmp, "key.pem")
        envelope.write_bytes(answer["CiphertextForRecipient"])
        key_pem.write_bytes(
            enclave_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        opened = subprocess.run(  # noqa: S603 - a fixed command line
            ["openssl", "cms", "-decrypt", "-binary", "-inform", "DER",  # noqa: S607
             "-in", str(envelope), "-inkey", str(key_pem)],
            capture_output=True, check=True,
        ).stdout  # fmt: skip

    # The same derivation in clear, for comparison: the enclave got exactly that secret.
    clear = kms.derive_shared_secret(KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=peer_der)
    print("enclave's secret equals the clear one:", opened == clear["SharedSecret"])


if __name__ == "__main__":
    {"init": init, "run": run}[sys.argv[1]](Path(sys.argv[2]))

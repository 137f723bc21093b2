"""Every Wycheproof ECDH vector through boto3 against a real server, on imported keys (DESIGN §4).

For each curve file, every distinct private key is imported into its own EXTERNAL key, wrapped
as a client wraps it, and every vector of that key runs through DeriveSharedSecret: valid ->
exactly the expected secret, invalid -> InvalidPublicKeyException, acceptable -> either (and
the expected secret when it succeeds). The test id carries the vector count of each curve,
and each test asserts that exactly that many vectors ran.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import ec

from qkms.crypto import Curve
from tests.e2e.support import create_external, get_parameters
from tests.import_client import client_wrap, pkcs8
from tests.vectors.wycheproof import ECDH_FILES, EcdhVector, load_ecdh_vectors

_SPECS = {
    Curve.P256: ("ECC_NIST_P256", ec.SECP256R1()),
    Curve.P384: ("ECC_NIST_P384", ec.SECP384R1()),
    Curve.P521: ("ECC_NIST_P521", ec.SECP521R1()),
    Curve.SECP256K1: ("ECC_SECG_P256K1", ec.SECP256K1()),
}
# RSA-OAEP-SHA-256 under RSA-2048 carries up to 190 bytes: PKCS#8 of P-256, secp256k1 and
# P-384 (185 bytes) fit; P-521's 241 bytes need RSA-AES key wrap.
_WRAPPING = {
    Curve.P256: "RSAES_OAEP_SHA_256",
    Curve.SECP256K1: "RSAES_OAEP_SHA_256",
    Curve.P384: "RSAES_OAEP_SHA_256",
    Curve.P521: "RSA_AES_KEY_WRAP_SHA_256",
}
_VECTORS = {name: load_ecdh_vectors(name) for name in ECDH_FILES}


def _import(kms: Any, curve: Curve, scalar: int) -> str:
    spec, ec_curve = _SPECS[curve]
    key_id = create_external(kms, spec)
    algorithm = _WRAPPING[curve]
    params = get_parameters(kms, key_id, algorithm, "RSA_2048")
    material = pkcs8(ec.derive_private_key(scalar, ec_curve))
    kms.import_key_material(
        KeyId=key_id,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=client_wrap(algorithm, params["PublicKey"], material),
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    return key_id


def _outcome(kms: Any, key_id: str, vector: EcdhVector) -> bytes | str:
    try:
        answer = kms.derive_shared_secret(
            KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=vector.public_der
        )
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return bytes(answer["SharedSecret"])


@pytest.mark.parametrize(
    "curve_name", list(_VECTORS), ids=[f"{n}: {len(v)} vectors" for n, v in _VECTORS.items()]
)
def test_every_vector_through_boto3(kms: Any, curve_name: str) -> None:
    vectors = _VECTORS[curve_name]
    by_key: dict[int, list[EcdhVector]] = defaultdict(list)
    for vector in vectors:
        by_key[vector.private_scalar].append(vector)
    ran: Counter[str] = Counter()
    failures: list[str] = []
    for scalar, group in by_key.items():
        key_id = _import(kms, group[0].curve, scalar)
        for vector in group:
            outcome = _outcome(kms, key_id, vector)
            ran[vector.result] += 1
            if outcome == vector.shared:
                ok = vector.result in ("valid", "acceptable")
            elif outcome == "InvalidPublicKeyException":
                ok = vector.result in ("invalid", "acceptable")
            elif outcome == "ValidationException" and not vector.public_der:
                # "removing sequence" leaves an empty PublicKey: AWS's model sets its minimum
                # length to 1, so the wire refuses it before any key is looked at (DESIGN §1).
                ok = vector.result == "acceptable"
            else:
                ok = False
            if not ok:
                shown = outcome if isinstance(outcome, str) else "another secret"
                failures.append(f"{vector.id} ({vector.result}, {vector.comment}): {shown}")
    expected = Counter(vector.result for vector in vectors)
    summary = (
        f"Wycheproof {curve_name}: {sum(ran.values())} vectors ran through DeriveSharedSecret "
        f"on {len(by_key)} imported keys ({dict(ran)})"
    )
    print(summary)
    assert failures == [], summary
    assert ran == expected and sum(ran.values()) == len(vectors), summary

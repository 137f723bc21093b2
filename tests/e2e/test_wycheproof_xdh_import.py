"""Every Wycheproof X25519/X448 vector (ASN.1 keys) through boto3 against a real two-worker
server, on imported keys (DESIGN §4a).

Each distinct private key (PKCS#8, as the vector gives it) is imported into its own EXTERNAL
`ECC_X25519`/`ECC_X448` key, wrapped as a client wraps it, and every vector of that key runs
through DeriveSharedSecret: valid -> exactly the expected secret; invalid -> the private key is
refused at import (IncorrectKeyMaterialException) or the public key at derivation
(InvalidPublicKeyException); acceptable -> either, and the expected secret when it succeeds.
Wherever the secret would be all zeros QKMS must refuse (RFC 7748 §6.1). Keys are imported by
a few threads at once, so both workers share the RSA key generation of GetParametersForImport.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import QkmsServer
from tests.e2e.support import create_external, get_parameters
from tests.import_client import client_wrap
from tests.vectors.wycheproof import Case, load_files_or_skip

FILES = {"x25519_asn_test.json": "ECC_X25519", "x448_asn_test.json": "ECC_X448"}
VECTORS = load_files_or_skip(dict.fromkeys(FILES, "xdh_asn_comp_schema_v1.json"))
_WRAPPING = "RSAES_OAEP_SHA_256"  # PKCS#8 of X25519 (48 bytes) and X448 (72) fit one block


def _import(kms: Any, spec: str, private_pkcs8: bytes) -> str:
    """The key id, or "IncorrectKeyMaterialException" when QKMS refuses the material."""
    key_id = create_external(kms, spec)
    params = get_parameters(kms, key_id, _WRAPPING, "RSA_2048")
    try:
        kms.import_key_material(
            KeyId=key_id,
            ImportToken=params["ImportToken"],
            EncryptedKeyMaterial=client_wrap(_WRAPPING, params["PublicKey"], private_pkcs8),
            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
        )
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return key_id


def _outcome(kms: Any, key_id: str, case: Case) -> bytes | str:
    try:
        answer = kms.derive_shared_secret(
            KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=case.test_hex("public")
        )
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return bytes(answer["SharedSecret"])


def _check(case: Case, outcome: bytes | str) -> str | None:
    """None if `outcome` is right for `case`, else what was wrong."""
    shared = case.test_hex("shared")
    refused = outcome in ("InvalidPublicKeyException", "IncorrectKeyMaterialException")
    if "ZeroSharedSecret" in case.flags or (shared and not any(shared)):
        ok = outcome == "InvalidPublicKeyException"
    elif outcome == "ValidationException" and not case.test_hex("public"):
        # An empty PublicKey: AWS's model sets its minimum length to 1 (DESIGN §1).
        ok = case.result != "valid"
    elif case.result == "valid":
        ok = outcome == shared
    elif case.result == "invalid":
        ok = refused
    else:
        ok = refused or outcome == shared
    if ok:
        return None
    shown = outcome if isinstance(outcome, str) else "another secret"
    return f"{case.id} ({case.result}, {case.comment}): {shown}"


def _run_key(kms: Any, spec: str, private_pkcs8: bytes, group: list[Case]) -> list[str | None]:
    key_id = _import(kms, spec, private_pkcs8)
    if key_id == "IncorrectKeyMaterialException":
        return [_check(case, key_id) for case in group]
    return [_check(case, _outcome(kms, key_id, case)) for case in group]


@pytest.mark.parametrize(
    "file_name",
    list(FILES),
    ids=[f"{n}: {sum(c.file_stem + '.json' == n for c in VECTORS)} vectors" for n in FILES],
)
def test_every_vector_through_boto3_on_imported_keys(
    two_workers: QkmsServer, file_name: str
) -> None:
    kms = two_workers.client()
    spec = FILES[file_name]
    cases = [case for case in VECTORS if case.file_stem + ".json" == file_name]
    by_key: dict[bytes, list[Case]] = defaultdict(list)
    for case in cases:
        by_key[case.test_hex("private")].append(case)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda item: _run_key(kms, spec, item[0], item[1]), by_key.items()))
    failures = [problem for batch in results for problem in batch if problem is not None]
    ran = sum(len(batch) for batch in results)
    summary = (
        f"Wycheproof {file_name}: {ran} vectors ran through DeriveSharedSecret on "
        f"{len(by_key)} imported keys ({dict(Counter(case.result for case in cases))})"
    )
    print(summary)
    assert failures == [], summary
    assert ran == len(cases), summary

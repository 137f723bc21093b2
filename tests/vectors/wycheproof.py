"""The one loader for Wycheproof test vectors: ECDH ("asn" encoding), HMAC, RSA-OAEP decryption.

Every loader reads a whole file, checks its schema and that the number of cases read equals the
file's own count, and raises ValueError on anything unexpected: a vector is never dropped here.
Which vectors KMS cannot express is decided by the tests, by rule, with a counted skip.
ECDH, HMAC and RSA-OAEP have typed vectors; every other file (ECDSA, RSA signatures, ML-DSA,
ML-KEM, X25519/X448) is read as generic `Case`s by the same rules.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, cast

import pytest

from qkms.crypto import Curve, HmacKeySpec, RsaEncryptionAlgorithm

__all__ = [
    "ECDH_FILES",
    "MAC_FILES",
    "RSA_OAEP_FILES",
    "Case",
    "EcdhVector",
    "MacVector",
    "Result",
    "RsaOaepVector",
    "load_cases",
    "load_ecdh_vectors",
    "load_files_or_skip",
    "load_mac_vectors",
    "load_rsa_oaep_vectors",
    "require_wycheproof_dir",
    "shared_dir",
    "wycheproof_dir",
]

Result = Literal["valid", "invalid", "acceptable"]

# Wycheproof's curve name -> our curve and the file holding its vectors.
ECDH_FILES: Final[dict[str, tuple[Curve, str]]] = {
    "secp256r1": (Curve.P256, "ecdh_secp256r1_test.json"),
    "secp384r1": (Curve.P384, "ecdh_secp384r1_test.json"),
    "secp521r1": (Curve.P521, "ecdh_secp521r1_test.json"),
    "secp256k1": (Curve.SECP256K1, "ecdh_secp256k1_test.json"),
}
# Wycheproof's MAC file -> the KMS HMAC key spec whose algorithm it tests.
MAC_FILES: Final[dict[str, HmacKeySpec]] = {
    "hmac_sha224_test.json": HmacKeySpec.HMAC_224,
    "hmac_sha256_test.json": HmacKeySpec.HMAC_256,
    "hmac_sha384_test.json": HmacKeySpec.HMAC_384,
    "hmac_sha512_test.json": HmacKeySpec.HMAC_512,
}
# Wycheproof's RSA-OAEP file -> the KMS algorithm (same hash for OAEP and MGF1) it tests.
RSA_OAEP_FILES: Final[dict[str, RsaEncryptionAlgorithm]] = {
    "rsa_oaep_2048_sha1_mgf1sha1_test.json": RsaEncryptionAlgorithm.RSAES_OAEP_SHA_1,
    "rsa_oaep_2048_sha256_mgf1sha256_test.json": RsaEncryptionAlgorithm.RSAES_OAEP_SHA_256,
    "rsa_oaep_3072_sha256_mgf1sha256_test.json": RsaEncryptionAlgorithm.RSAES_OAEP_SHA_256,
    "rsa_oaep_4096_sha256_mgf1sha256_test.json": RsaEncryptionAlgorithm.RSAES_OAEP_SHA_256,
}
_OAEP_HASHES: Final = {
    RsaEncryptionAlgorithm.RSAES_OAEP_SHA_1: "SHA-1",
    RsaEncryptionAlgorithm.RSAES_OAEP_SHA_256: "SHA-256",
}
_SCHEMA: Final = "ecdh_test_schema_v1.json"
_MAC_SCHEMA: Final = "mac_test_schema_v1.json"
_RSA_OAEP_SCHEMA: Final = "rsaes_oaep_decrypt_schema_v1.json"
_RESULTS: Final = ("valid", "invalid", "acceptable")


@dataclass(frozen=True)
class EcdhVector:
    """One Wycheproof ECDH test case."""

    curve: Curve
    curve_name: str  # Wycheproof's spelling, used in test ids
    tc_id: int
    comment: str
    flags: tuple[str, ...]
    public_der: bytes  # the peer key exactly as the test gives it (meant to be DER SPKI)
    private_scalar: int
    shared: bytes
    result: Result

    @property
    def id(self) -> str:
        return f"{self.curve_name}-tc{self.tc_id}"


@dataclass(frozen=True)
class MacVector:
    """One Wycheproof MAC test case, with its group's key and tag sizes."""

    spec: HmacKeySpec
    file_name: str
    tc_id: int
    comment: str
    flags: tuple[str, ...]
    key_size_bits: int
    tag_size_bits: int
    key: bytes
    message: bytes
    tag: bytes
    result: Result

    @property
    def id(self) -> str:
        return f"{self.file_name.removesuffix('_test.json')}-tc{self.tc_id}"


@dataclass(frozen=True)
class RsaOaepVector:
    """One Wycheproof RSA-OAEP decryption case, with its group's private key (PKCS#8 DER)."""

    algorithm: RsaEncryptionAlgorithm
    file_name: str
    tc_id: int
    comment: str
    flags: tuple[str, ...]
    key_size: int
    private_pkcs8_der: bytes
    message: bytes
    ciphertext: bytes
    label: bytes
    result: Result

    @property
    def id(self) -> str:
        return f"{self.file_name.removesuffix('_test.json')}-tc{self.tc_id}"


def shared_dir() -> Path:
    """The shared/ folder: $QKMS_SHARED_DIR, else the sibling of the repository."""
    override = os.environ.get("QKMS_SHARED_DIR")
    if override:
        return Path(override)
    # tests/vectors/wycheproof.py -> parents[2] is the repository; shared/ sits beside it.
    return Path(__file__).resolve().parents[2].parent / "shared"


def wycheproof_dir() -> Path:
    return shared_dir() / "testdata" / "wycheproof"


def require_wycheproof_dir() -> Path:
    """The vectors folder; without it the calling test module is skipped, or fails under CI."""
    directory = wycheproof_dir()
    if not directory.is_dir():
        reason = f"Wycheproof vectors not found in {directory} (set QKMS_SHARED_DIR)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason, allow_module_level=True)
    return directory


def load_ecdh_vectors(curve_name: str, directory: Path | None = None) -> list[EcdhVector]:
    """Every case of one curve's file; ValueError on anything unexpected, never a silent skip."""
    curve, file_name = ECDH_FILES[curve_name]
    path = (directory or wycheproof_dir()) / file_name
    document = _object(json.loads(path.read_text(encoding="utf-8")), path.name)
    if document.get("schema") != _SCHEMA or document.get("algorithm") != "ECDH":
        raise ValueError(f"{path.name}: not an ECDH file of schema {_SCHEMA}")
    vectors: list[EcdhVector] = []
    for raw_group in _list(document["testGroups"], "testGroups"):
        group = _object(raw_group, "test group")
        if group.get("type") != "EcdhTest" or group.get("encoding") != "asn":
            raise ValueError(f"{path.name}: unexpected group {group.get('type')!r}")
        if group.get("curve") != curve_name:
            raise ValueError(f"{path.name}: group for curve {group.get('curve')!r}")
        vectors.extend(
            _vector(curve, curve_name, _object(t, "test")) for t in _list(group["tests"], "tests")
        )
    if len(vectors) != document.get("numberOfTests"):
        raise ValueError(f"{path.name}: read {len(vectors)} tests, file says otherwise")
    return vectors


def load_mac_vectors(file_name: str, directory: Path | None = None) -> list[MacVector]:
    """Every case of one HMAC file (schema mac_test_schema_v1); ValueError if anything is off."""
    spec = MAC_FILES[file_name]
    groups = _groups(directory, file_name, _MAC_SCHEMA, "HMACSHA" + spec.value[5:], "MacTest")
    return [
        MacVector(
            spec=spec,
            file_name=file_name,
            tc_id=_int(test["tcId"]),
            comment=str(test["comment"]),
            flags=_flags(test),
            key_size_bits=_int(group["keySize"]),
            tag_size_bits=_int(group["tagSize"]),
            key=bytes.fromhex(str(test["key"])),
            message=bytes.fromhex(str(test["msg"])),
            tag=bytes.fromhex(str(test["tag"])),
            result=_result(test, file_name),
        )
        for group, test in groups
    ]


def load_rsa_oaep_vectors(file_name: str, directory: Path | None = None) -> list[RsaOaepVector]:
    """Every case of one RSA-OAEP file (rsaes_oaep_decrypt_schema_v1); ValueError if off."""
    algorithm = RSA_OAEP_FILES[file_name]
    groups = _groups(directory, file_name, _RSA_OAEP_SCHEMA, "RSAES-OAEP", "RsaesOaepDecrypt")
    digest = _OAEP_HASHES[algorithm]
    vectors: list[RsaOaepVector] = []
    for group, test in groups:
        if (
            group.get("sha") != digest
            or group.get("mgf") != "MGF1"
            or group.get("mgfSha") != digest
        ):
            raise ValueError(f"{file_name}: group is not OAEP with {digest} and MGF1-{digest}")
        vectors.append(
            RsaOaepVector(
                algorithm=algorithm,
                file_name=file_name,
                tc_id=_int(test["tcId"]),
                comment=str(test["comment"]),
                flags=_flags(test),
                key_size=_int(group["keySize"]),
                private_pkcs8_der=bytes.fromhex(str(group["privateKeyPkcs8"])),
                message=bytes.fromhex(str(test["msg"])),
                ciphertext=bytes.fromhex(str(test["ct"])),
                label=bytes.fromhex(str(test["label"])),
                result=_result(test, file_name),
            )
        )
    return vectors


def _document(directory: Path | None, file_name: str) -> dict[str, object]:
    path = (directory or wycheproof_dir()) / file_name
    return _object(json.loads(path.read_text(encoding="utf-8")), file_name)


def _groups(
    directory: Path | None, file_name: str, schema: str, algorithm: str, group_type: str
) -> list[tuple[dict[str, object], dict[str, object]]]:
    """(group, test) for every test of a file whose schema and algorithm are as expected."""
    document = _document(directory, file_name)
    if document.get("schema") != schema or document.get("algorithm") != algorithm:
        raise ValueError(f"{file_name}: not a {algorithm} file of schema {schema}")
    pairs: list[tuple[dict[str, object], dict[str, object]]] = []
    for raw_group in _list(document["testGroups"], "testGroups"):
        group = _object(raw_group, "test group")
        if group.get("type") != group_type:
            raise ValueError(f"{file_name}: unexpected group {group.get('type')!r}")
        pairs.extend((group, _object(t, "test")) for t in _list(group["tests"], "tests"))
    if len(pairs) != document.get("numberOfTests"):
        raise ValueError(f"{file_name}: read {len(pairs)} tests, file says otherwise")
    return pairs


def _result(test: dict[str, object], what: str) -> Result:
    result = test["result"]
    if result not in _RESULTS:
        raise ValueError(f"{what}: unknown result {result!r}")
    return result


def _flags(test: dict[str, object]) -> tuple[str, ...]:
    return tuple(str(flag) for flag in _list(test["flags"], "flags"))


def _vector(curve: Curve, curve_name: str, test: dict[str, object]) -> EcdhVector:
    result = test["result"]
    if result not in _RESULTS:
        raise ValueError(f"{curve_name}: unknown result {result!r}")
    return EcdhVector(
        curve=curve,
        curve_name=curve_name,
        tc_id=_int(test["tcId"]),
        comment=str(test["comment"]),
        flags=tuple(str(flag) for flag in _list(test["flags"], "flags")),
        public_der=bytes.fromhex(str(test["public"])),
        # Big-endian, sometimes with a leading 00 so that it reads as a positive ASN.1 integer.
        private_scalar=int(str(test["private"]), 16),
        shared=bytes.fromhex(str(test["shared"])),
        result=result,
    )


def _object(value: object, what: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ValueError(f"{what}: expected a JSON object")
    return cast(dict[str, object], value)


def _list(value: object, what: str) -> list[object]:
    if not isinstance(value, list):
        raise ValueError(f"{what}: expected a JSON array")
    return cast(list[object], value)


def _int(value: object) -> int:
    if not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    return value


# --- Every other Wycheproof file: one generic case type, read by the same rules -------------


@dataclass(frozen=True)
class Case:
    """One test of any Wycheproof file, with its group's fields (keys, parameters) beside it."""

    file_stem: str  # e.g. "ecdsa_secp256r1_sha256_test", used in test ids
    tc_id: int
    comment: str
    flags: tuple[str, ...]
    result: Result
    group: dict[str, object]
    test: dict[str, object]

    @property
    def id(self) -> str:
        return f"{self.file_stem.removesuffix('_test')}-tc{self.tc_id}"

    def test_hex(self, name: str) -> bytes:
        return bytes.fromhex(str(self.test[name]))

    def group_hex(self, name: str) -> bytes:
        return bytes.fromhex(str(self.group[name]))


def load_cases(file_name: str, schema: str, directory: Path | None = None) -> list[Case]:
    """Every test of `file_name`, which must be of `schema`; ValueError on anything unexpected."""
    path = (directory or wycheproof_dir()) / file_name
    document = _object(json.loads(path.read_text(encoding="utf-8")), path.name)
    if document.get("schema") != schema:
        raise ValueError(f"{path.name}: schema {document.get('schema')!r}, expected {schema}")
    stem = path.name.removesuffix(".json")
    cases: list[Case] = []
    for raw_group in _list(document["testGroups"], "testGroups"):
        group = _object(raw_group, "test group")
        for raw_test in _list(group["tests"], "tests"):
            test = _object(raw_test, "test")
            result = test["result"]
            if result not in _RESULTS:
                raise ValueError(f"{path.name}: unknown result {result!r}")
            cases.append(
                Case(
                    file_stem=stem,
                    # Newer files (ML-DSA, ML-KEM) write tcId as a string.
                    tc_id=int(str(test["tcId"])),
                    comment=str(test.get("comment", "")),
                    flags=tuple(str(flag) for flag in _list(test.get("flags", []), "flags")),
                    result=result,
                    group={k: v for k, v in group.items() if k != "tests"},
                    test=test,
                )
            )
    if len(cases) != document.get("numberOfTests"):
        raise ValueError(f"{path.name}: read {len(cases)} tests, file says otherwise")
    if len({case.tc_id for case in cases}) != len(cases):
        raise ValueError(f"{path.name}: duplicate tcId")
    return cases


def load_files_or_skip(files: dict[str, str]) -> list[Case]:
    """All cases of `files` (name -> schema); the whole module skips if the folder is absent.

    Under CI a missing folder fails instead; a missing or malformed file below an existing
    folder always fails collection, never a skip.
    """
    directory = require_wycheproof_dir()
    return [case for name, schema in files.items() for case in load_cases(name, schema, directory)]

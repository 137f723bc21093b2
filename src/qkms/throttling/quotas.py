"""AWS KMS's default request quotas, which quota each call counts against, and overrides of them.

The table is AWS's "Request quotas for each AWS KMS API operation", as published on
https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html (read
2026-12-01). AWS's model, kept here:

- a quota is a number of requests per second, per account (and region) — for cross-account
  calls the *caller's* account is charged, not the key owner's;
- cryptographic operations share one quota per key type (symmetric, RSA, ECC, ML-DSA), so a
  Sign and a DeriveSharedSecret on ECC keys draw from the same budget;
- GenerateDataKeyPair[WithoutPlaintext] have one shared quota per KeyPairSpec;
- every other operation has a quota of its own, named after the operation.

QKMS knows a call's key type before the operation runs only from the request itself: the
algorithm a Sign, Verify, Encrypt, Decrypt or ReEncrypt names (AWS requires it for asymmetric
keys; its absence means SYMMETRIC_DEFAULT). A request whose algorithm does not fit its key fails
in the operation anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "AWS_QUOTAS_PAGE",
    "ECC",
    "ML_DSA",
    "ML_KEM",
    "RSA",
    "SYMMETRIC",
    "QuotaSpecError",
    "ThrottleConfig",
    "classify",
    "default_rates",
    "parse_throttle",
]

AWS_QUOTAS_PAGE = "https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html"

# The shared quotas of cryptographic operations, by key type.
SYMMETRIC = "symmetric"  # "Cryptographic operations (symmetric) request rate" (HMAC keys too)
RSA = "rsa"  # "Cryptographic operations (RSA) request rate"
ECC = "ecc"  # "Cryptographic operations (ECC and SM2) request rate" (X25519/X448 here too)
ML_DSA = "ml-dsa"  # "Cryptographic operations (ML-DSA) request rate"
# AWS's page lists no quota for Encapsulate/Decapsulate; QKMS gives ML-KEM keys a shared quota
# equal to the other asymmetric key types', so a flood of them cannot go unbounded by default.
ML_KEM = "ml-kem"

_ASYMMETRIC_RATE = 1000.0  # RSA, ECC and SM2, ML-DSA: "1,000 (shared)"

# The symmetric quota depends on the region ("These shared quotas vary with the AWS Region").
_SYMMETRIC_BY_REGION = {
    **dict.fromkeys(("us-east-1", "us-west-2", "eu-west-1"), 100_000.0),
    **dict.fromkeys(
        (
            "us-east-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-northeast-1",
            "eu-central-1",
            "eu-west-2",
        ),
        20_000.0,
    ),
}
_SYMMETRIC_ELSEWHERE = 10_000.0

# "<Operation> request rate" rows: operations with a quota of their own.
_PER_OPERATION: Mapping[str, float] = {
    "CancelKeyDeletion": 5,
    "ConnectCustomKeyStore": 5,
    "CreateAlias": 5,
    "CreateCustomKeyStore": 5,
    "CreateGrant": 50,
    "CreateKey": 5,
    "DeleteAlias": 15,
    "DeleteCustomKeyStore": 5,
    "DeleteImportedKeyMaterial": 15,
    "DescribeCustomKeyStores": 5,
    "DescribeKey": 2000,
    "DisableKey": 5,
    "DisableKeyRotation": 5,
    "DisconnectCustomKeyStore": 5,
    "EnableKey": 5,
    "EnableKeyRotation": 15,
    "GetKeyLastUsage": 5,
    "GetKeyPolicy": 1000,
    "GetKeyRotationStatus": 1000,
    "GetParametersForImport": 1,
    "GetPublicKey": 2000,
    "ImportKeyMaterial": 15,
    "ListAliases": 500,
    "ListGrants": 100,
    "ListKeyPolicies": 100,
    "ListKeyRotations": 100,
    "ListKeys": 500,
    "ListResourceTags": 2000,
    "ListRetirableGrants": 100,
    "PutKeyPolicy": 15,
    "ReplicateKey": 5,
    "RetireGrant": 50,
    "RevokeGrant": 50,
    "RotateKeyOnDemand": 5,
    "ScheduleKeyDeletion": 15,
    "TagResource": 10,
    "UntagResource": 5,
    "UpdateAlias": 5,
    "UpdateCustomKeyStore": 5,
    "UpdateKeyDescription": 5,
    "UpdatePrimaryRegion": 5,
}

# "GenerateDataKeyPair (<KeyPairSpec>) request rate" rows (values outside the China regions).
_DATA_KEY_PAIR = "GenerateDataKeyPair"
_DATA_KEY_PAIR_BY_SPEC: Mapping[str, float] = {
    "ECC_NIST_P256": 100,
    "ECC_NIST_P384": 100,
    "ECC_NIST_P521": 100,
    "ECC_SECG_P256K1": 100,
    "ECC_NIST_EDWARDS25519": 100,
    "RSA_2048": 20,
    "RSA_3072": 4,
    "RSA_4096": 1,
    "SM2": 25,
}

# Operations whose quota is a shared one, whatever their request says.
_SHARED: Mapping[str, str] = {
    "DeriveSharedSecret": ECC,
    "GenerateDataKey": SYMMETRIC,
    "GenerateDataKeyWithoutPlaintext": SYMMETRIC,
    "GenerateMac": SYMMETRIC,
    "VerifyMac": SYMMETRIC,
    "GenerateRandom": SYMMETRIC,
    "Encapsulate": ML_KEM,
    "Decapsulate": ML_KEM,
}
# Operations whose shared quota follows the key type the request's algorithm names.
_BY_ENCRYPTION_ALGORITHM = frozenset({"Encrypt", "Decrypt", "ReEncrypt"})
_BY_SIGNING_ALGORITHM = frozenset({"Sign", "Verify"})
_SHARED_BY_KEY_TYPE = {
    name: f"{SYMMETRIC}, {RSA} or {ECC}" for name in _BY_ENCRYPTION_ALGORITHM
} | {name: f"{RSA}, {ECC} or {ML_DSA}" for name in _BY_SIGNING_ALGORITHM}


def _data_key_pair_class(spec: str) -> str:
    return f"{_DATA_KEY_PAIR}:{spec}"


def default_rates(region: str) -> dict[str, float]:
    """Every quota class and its default rate (requests per second) in `region`."""
    rates: dict[str, float] = {
        SYMMETRIC: _SYMMETRIC_BY_REGION.get(region, _SYMMETRIC_ELSEWHERE),
        RSA: _ASYMMETRIC_RATE,
        ECC: _ASYMMETRIC_RATE,
        ML_DSA: _ASYMMETRIC_RATE,
        ML_KEM: _ASYMMETRIC_RATE,
    }
    rates.update({name: float(rate) for name, rate in _PER_OPERATION.items()})
    rates.update(
        {_data_key_pair_class(spec): float(rate) for spec, rate in _DATA_KEY_PAIR_BY_SPEC.items()}
    )
    return rates


def _encryption_class(algorithm: str | None) -> str:
    if algorithm is None or algorithm == "SYMMETRIC_DEFAULT":
        return SYMMETRIC
    if algorithm.startswith("RSAES_"):
        return RSA
    return ECC  # SM2PKE: AWS counts SM2 with the ECC keys


def _signing_class(algorithm: str | None) -> str:
    if algorithm is not None and algorithm.startswith("RSASSA_"):
        return RSA
    if algorithm is not None and algorithm.startswith("ML_DSA_"):
        return ML_DSA
    return ECC  # ECDSA_*, ED25519_*, SM2DSA


def classify(operation: str, request: object) -> str | None:
    """The quota class a call of `operation` with this decoded request counts against.

    None for an operation AWS's table does not know (it is not throttled).
    """
    if operation in _PER_OPERATION:
        return operation
    if (shared := _SHARED.get(operation)) is not None:
        return shared
    if operation in _BY_SIGNING_ALGORITHM:
        return _signing_class(getattr(request, "signing_algorithm", None))
    if operation == "ReEncrypt":
        # It decrypts under one key and encrypts under another: the asymmetric side, if any,
        # is the scarcer quota, so it is the one charged.
        source = _encryption_class(getattr(request, "source_encryption_algorithm", None))
        target = _encryption_class(getattr(request, "destination_encryption_algorithm", None))
        return source if source != SYMMETRIC else target
    if operation in _BY_ENCRYPTION_ALGORITHM:
        return _encryption_class(getattr(request, "encryption_algorithm", None))
    if operation in (_DATA_KEY_PAIR, f"{_DATA_KEY_PAIR}WithoutPlaintext"):
        return _data_key_pair_class(str(getattr(request, "key_pair_spec", None)))
    return None


class QuotaSpecError(ValueError):
    """A throttle spec that does not parse; the message says what is wrong and what is valid."""


@dataclass(frozen=True, slots=True)
class ThrottleConfig:
    """Whether throttling is on, and every quota class's rate (0 = unlimited)."""

    enabled: bool
    rates: Mapping[str, float]


_ALL = "*"
_OFF = frozenset({"off", "none", "disabled"})


def parse_throttle(spec: str, region: str) -> ThrottleConfig:
    """AWS's defaults for `region` with the overrides of `spec` applied.

    `spec` is a comma-separated list of `CLASS=RATE` (requests per second, 0 = unlimited);
    `*=RATE` sets every class first, the named classes then override it; `off` disables
    throttling altogether. Class names are those of `default_rates` (case-insensitive).
    """
    rates = default_rates(region)
    canonical = {name.lower(): name for name in rates}
    enabled, everything, named = True, None, {}
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        if item.lower() in _OFF:
            enabled = False
            continue
        name, equals, value = item.partition("=")
        name = name.strip()
        if not equals:
            raise QuotaSpecError(f"throttle {item!r}: expected CLASS=RATE or 'off'.")
        rate = _rate(name, value.strip())
        if name == _ALL:
            everything = rate
        elif name.lower() in canonical:
            named[canonical[name.lower()]] = rate
        else:
            raise QuotaSpecError(_unknown_class(name))
    if everything is not None:
        rates = dict.fromkeys(rates, everything)
    rates.update(named)
    return ThrottleConfig(enabled=enabled, rates=rates)


def _rate(name: str, text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        rate = -1.0
    if not rate >= 0.0 or rate == float("inf"):  # also refuses NaN
        raise QuotaSpecError(
            f"throttle {name}={text!r}: the rate must be a number of requests per second, "
            "0 or more (0 = unlimited)."
        )
    return rate


def _unknown_class(name: str) -> str:
    if name in _SHARED:
        return (
            f"throttle {name!r}: {name} has no quota of its own; it counts against the shared "
            f"quota {_SHARED[name]!r} (give {_SHARED[name]}=RATE)."
        )
    if name in _SHARED_BY_KEY_TYPE:
        return (
            f"throttle {name!r}: {name} counts against the shared quota of its key type "
            f"({_SHARED_BY_KEY_TYPE[name]}); give that class instead."
        )
    if name.startswith(_DATA_KEY_PAIR):
        specs = ", ".join(_DATA_KEY_PAIR_BY_SPEC)
        return f"throttle {name!r}: use {_DATA_KEY_PAIR}:<KeyPairSpec>, one of {specs}."
    shared = ", ".join((SYMMETRIC, RSA, ECC, ML_DSA, ML_KEM))
    return (
        f"throttle {name!r}: no such quota. Give a shared class ({shared}), an operation "
        f"with its own quota (e.g. CreateKey, DescribeKey), {_DATA_KEY_PAIR}:<KeyPairSpec>, "
        "or * for all."
    )

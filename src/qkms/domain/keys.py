"""The KMS key record and its vocabulary: states, usages, specs, origins, and what each can do (DESIGN §2, §4)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from qkms.crypto import Curve, HmacKeySpec, MlKemKeySpec, SigningKeySpec, XdhCurve

__all__ = [
    "MULTI_REGION_KEY_PREFIX",
    "Key",
    "KeyOrigin",
    "KeySpec",
    "KeyState",
    "KeyUsage",
    "curve_of",
    "hmac_spec_of",
    "is_supported_pair",
    "is_valid_aws_pair",
    "mlkem_spec_of",
    "signing_spec_of",
    "xdh_curve_of",
]


# AWS's multi-region key ids: "mrk-" and 32 lowercase hex digits.
MULTI_REGION_KEY_PREFIX = "mrk-"


class KeyState(enum.Enum):
    """Values equal AWS's wire strings (STYLE §4): stored by value, never by position."""

    ENABLED = "Enabled"
    DISABLED = "Disabled"
    PENDING_DELETION = "PendingDeletion"
    PENDING_IMPORT = "PendingImport"
    UNAVAILABLE = "Unavailable"


class KeyUsage(enum.Enum):
    ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"
    SIGN_VERIFY = "SIGN_VERIFY"
    GENERATE_VERIFY_MAC = "GENERATE_VERIFY_MAC"
    # Two spellings of one usage (DESIGN §2): the seed page's and AWS's. A key reports the
    # spelling it was created with, because AWS clients check for the exact string.
    KEY_AGREEMENT = "KEY_AGREEMENT"
    DERIVE_SHARED_SECRET = "DERIVE_SHARED_SECRET"  # noqa: S105 - a usage name, not a secret
    ENCAPSULATE_DECAPSULATE = "ENCAPSULATE_DECAPSULATE"

    @property
    def is_key_agreement(self) -> bool:
        return self in (KeyUsage.KEY_AGREEMENT, KeyUsage.DERIVE_SHARED_SECRET)


class KeySpec(enum.Enum):
    """Every KeySpec AWS KMS knows, so that a valid-but-unsupported spec is told apart from a typo."""

    SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT"
    RSA_2048 = "RSA_2048"
    RSA_3072 = "RSA_3072"
    RSA_4096 = "RSA_4096"
    ECC_NIST_P256 = "ECC_NIST_P256"
    ECC_NIST_P384 = "ECC_NIST_P384"
    ECC_NIST_P521 = "ECC_NIST_P521"
    ECC_SECG_P256K1 = "ECC_SECG_P256K1"
    ECC_NIST_EDWARDS25519 = "ECC_NIST_EDWARDS25519"
    HMAC_224 = "HMAC_224"
    HMAC_256 = "HMAC_256"
    HMAC_384 = "HMAC_384"
    HMAC_512 = "HMAC_512"
    SM2 = "SM2"
    ML_DSA_44 = "ML_DSA_44"
    ML_DSA_65 = "ML_DSA_65"
    ML_DSA_87 = "ML_DSA_87"
    ML_KEM_512 = "ML_KEM_512"
    ML_KEM_768 = "ML_KEM_768"
    ML_KEM_1024 = "ML_KEM_1024"
    # QKMS's own: RFC 7748 key agreement, which AWS does not offer (DESIGN §4a, docs/api.md).
    ECC_X25519 = "ECC_X25519"
    ECC_X448 = "ECC_X448"

    @property
    def is_ecc(self) -> bool:
        return self in _CURVES

    @property
    def is_symmetric(self) -> bool:
        return self is KeySpec.SYMMETRIC_DEFAULT


class KeyOrigin(enum.Enum):
    AWS_KMS = "AWS_KMS"
    EXTERNAL = "EXTERNAL"
    AWS_CLOUDHSM = "AWS_CLOUDHSM"
    EXTERNAL_KEY_STORE = "EXTERNAL_KEY_STORE"


_CURVES: dict[KeySpec, Curve] = {
    KeySpec.ECC_NIST_P256: Curve.P256,
    KeySpec.ECC_NIST_P384: Curve.P384,
    KeySpec.ECC_NIST_P521: Curve.P521,
    KeySpec.ECC_SECG_P256K1: Curve.SECP256K1,
}

_XDH_CURVES: dict[KeySpec, XdhCurve] = {
    KeySpec.ECC_X25519: XdhCurve.X25519,
    KeySpec.ECC_X448: XdhCurve.X448,
}

_MLKEM_SPECS: dict[KeySpec, MlKemKeySpec] = {
    KeySpec.ML_KEM_512: MlKemKeySpec.ML_KEM_512,
    KeySpec.ML_KEM_768: MlKemKeySpec.ML_KEM_768,
    KeySpec.ML_KEM_1024: MlKemKeySpec.ML_KEM_1024,
}

_AGREEMENT = {KeyUsage.KEY_AGREEMENT, KeyUsage.DERIVE_SHARED_SECRET}
_KEM = {KeyUsage.ENCAPSULATE_DECAPSULATE}

# AWS KMS's compatibility of KeyUsage and KeySpec ("Choosing a KMS key type" in the AWS docs).
_AWS_PAIRS: dict[KeySpec, set[KeyUsage]] = {
    KeySpec.SYMMETRIC_DEFAULT: {KeyUsage.ENCRYPT_DECRYPT},
    KeySpec.RSA_2048: {KeyUsage.ENCRYPT_DECRYPT, KeyUsage.SIGN_VERIFY},
    KeySpec.RSA_3072: {KeyUsage.ENCRYPT_DECRYPT, KeyUsage.SIGN_VERIFY},
    KeySpec.RSA_4096: {KeyUsage.ENCRYPT_DECRYPT, KeyUsage.SIGN_VERIFY},
    KeySpec.ECC_NIST_P256: {KeyUsage.SIGN_VERIFY, *_AGREEMENT},
    KeySpec.ECC_NIST_P384: {KeyUsage.SIGN_VERIFY, *_AGREEMENT},
    KeySpec.ECC_NIST_P521: {KeyUsage.SIGN_VERIFY, *_AGREEMENT},
    KeySpec.ECC_SECG_P256K1: {KeyUsage.SIGN_VERIFY, *_AGREEMENT},
    KeySpec.ECC_NIST_EDWARDS25519: {KeyUsage.SIGN_VERIFY},
    KeySpec.HMAC_224: {KeyUsage.GENERATE_VERIFY_MAC},
    KeySpec.HMAC_256: {KeyUsage.GENERATE_VERIFY_MAC},
    KeySpec.HMAC_384: {KeyUsage.GENERATE_VERIFY_MAC},
    KeySpec.HMAC_512: {KeyUsage.GENERATE_VERIFY_MAC},
    KeySpec.SM2: {KeyUsage.ENCRYPT_DECRYPT, KeyUsage.SIGN_VERIFY, *_AGREEMENT},
    KeySpec.ML_DSA_44: {KeyUsage.SIGN_VERIFY},
    KeySpec.ML_DSA_65: {KeyUsage.SIGN_VERIFY},
    KeySpec.ML_DSA_87: {KeyUsage.SIGN_VERIFY},
    **dict.fromkeys(_MLKEM_SPECS, _KEM),
    # Not AWS's, but valid here: the pairs QKMS adds are refused by no AWS rule.
    **dict.fromkeys(_XDH_CURVES, _AGREEMENT),
}

# The SIGN_VERIFY and GENERATE_VERIFY_MAC specs, as the crypto layer names them (SM2 and
# Ed25519 have none: QKMS does not serve them).
_SIGNING_SPECS: dict[KeySpec, SigningKeySpec] = {
    KeySpec(spec.value): spec for spec in SigningKeySpec
}
_HMAC_SPECS: dict[KeySpec, HmacKeySpec] = {KeySpec(spec.value): spec for spec in HmacKeySpec}

_RSA_SPECS = frozenset({KeySpec.RSA_2048, KeySpec.RSA_3072, KeySpec.RSA_4096})

# What QKMS itself can create: key agreement on the four curves, symmetric keys, signing keys
# (RSA, ECC, ML-DSA) and HMAC keys (DESIGN §4a).
_SUPPORTED_PAIRS: dict[KeySpec, set[KeyUsage]] = {
    KeySpec.SYMMETRIC_DEFAULT: {KeyUsage.ENCRYPT_DECRYPT},
    **{spec: {KeyUsage.SIGN_VERIFY} for spec in _SIGNING_SPECS},
    **{spec: {KeyUsage.SIGN_VERIFY, *_AGREEMENT} for spec in _CURVES},
    **{spec: {KeyUsage.GENERATE_VERIFY_MAC} for spec in _HMAC_SPECS},
    **dict.fromkeys(_XDH_CURVES, _AGREEMENT),
    # ML-KEM-512 is an AWS spec the installed `cryptography` lacks (CreateKey says so).
    KeySpec.ML_KEM_768: _KEM,
    KeySpec.ML_KEM_1024: _KEM,
    # RSA keys also encrypt with OAEP (DESIGN §4a).
    **{spec: {KeyUsage.ENCRYPT_DECRYPT, KeyUsage.SIGN_VERIFY} for spec in _RSA_SPECS},
}


def is_valid_aws_pair(spec: KeySpec, usage: KeyUsage) -> bool:
    return usage in _AWS_PAIRS.get(spec, set())


def is_supported_pair(spec: KeySpec, usage: KeyUsage) -> bool:
    return usage in _SUPPORTED_PAIRS.get(spec, set())


def curve_of(spec: KeySpec) -> Curve | None:
    return _CURVES.get(spec)


def signing_spec_of(spec: KeySpec) -> SigningKeySpec | None:
    """The crypto layer's name of a spec that can sign; None for the others."""
    return _SIGNING_SPECS.get(spec)


def hmac_spec_of(spec: KeySpec) -> HmacKeySpec | None:
    """The crypto layer's name of an HMAC spec; None for the others."""
    return _HMAC_SPECS.get(spec)


def xdh_curve_of(spec: KeySpec) -> XdhCurve | None:
    return _XDH_CURVES.get(spec)


def mlkem_spec_of(spec: KeySpec) -> MlKemKeySpec | None:
    return _MLKEM_SPECS.get(spec)


@dataclass(frozen=True, slots=True)
class Key:
    """One KMS key as stored: metadata plus its material wrapped under the root key."""

    key_id: str
    account_id: str
    description: str
    key_usage: KeyUsage
    key_spec: KeySpec
    origin: KeyOrigin
    state: KeyState
    creation_date: float
    deletion_date: float | None
    public_key_der: bytes | None
    wrapped_material: bytes | None
    policy: str | None = None  # key policy JSON; None only for keys stored before policies existed
    tags: tuple[tuple[str, str], ...] = ()  # (TagKey, TagValue), sorted by key
    expiration_model: str | None = None  # imported material only (DESIGN §4)
    valid_to: float | None = None  # imported material with KEY_MATERIAL_EXPIRES
    # Symmetric keys: the material version new encryptions use (AWS's CurrentKeyMaterialId).
    current_key_material_id: str | None = None
    # The region of the request that created the key (its SigV4 credential scope, DESIGN §4a);
    # None for keys stored before regions were: they belong to the default region (--region).
    region: str | None = None
    # Multi-region keys (ids "mrk-..."): the region of the primary key; None for others.
    primary_region: str | None = None

    def __repr__(self) -> str:
        return (
            f"Key({self.key_id}, {self.key_spec.value}, {self.key_usage.value}, {self.state.value})"
        )

    @property
    def is_enabled(self) -> bool:
        return self.state is KeyState.ENABLED

    @property
    def is_multi_region(self) -> bool:
        """AWS gives multi-region keys, and only them, ids starting "mrk-"."""
        return self.key_id.startswith(MULTI_REGION_KEY_PREFIX)

    @property
    def is_replica(self) -> bool:
        """A multi-region key in a region other than its primary's."""
        return self.is_multi_region and self.region != self.primary_region

    @property
    def can_derive_shared_secret(self) -> bool:
        return self.key_usage.is_key_agreement and (
            self.key_spec.is_ecc or self.key_spec in _XDH_CURVES
        )

    @property
    def can_encapsulate(self) -> bool:
        return self.key_usage is KeyUsage.ENCAPSULATE_DECAPSULATE and self.key_spec in _MLKEM_SPECS

    @property
    def can_sign(self) -> bool:
        """Sign and Verify: a SIGN_VERIFY key of a spec QKMS can sign with."""
        return self.key_usage is KeyUsage.SIGN_VERIFY and self.signing_spec is not None

    @property
    def can_mac(self) -> bool:
        """GenerateMac and VerifyMac: a GENERATE_VERIFY_MAC key of an HMAC spec."""
        return self.key_usage is KeyUsage.GENERATE_VERIFY_MAC and self.hmac_spec is not None

    @property
    def signing_spec(self) -> SigningKeySpec | None:
        return signing_spec_of(self.key_spec)

    @property
    def hmac_spec(self) -> HmacKeySpec | None:
        return hmac_spec_of(self.key_spec)

    @property
    def is_asymmetric(self) -> bool:
        return self.public_key_der is not None

    @property
    def can_encrypt_symmetrically(self) -> bool:
        """Encrypt, Decrypt, ReEncrypt and the data key operations (DESIGN §4a)."""
        return self.key_usage is KeyUsage.ENCRYPT_DECRYPT and self.key_spec.is_symmetric

    @property
    def can_encrypt_with_rsa(self) -> bool:
        """Encrypt, Decrypt and ReEncrypt with RSA-OAEP: an RSA ENCRYPT_DECRYPT key."""
        return self.key_usage is KeyUsage.ENCRYPT_DECRYPT and self.key_spec in _RSA_SPECS

    @property
    def curve(self) -> Curve | None:
        return curve_of(self.key_spec)

    @property
    def xdh_curve(self) -> XdhCurve | None:
        return xdh_curve_of(self.key_spec)

    @property
    def mlkem_spec(self) -> MlKemKeySpec | None:
        return mlkem_spec_of(self.key_spec)

    def is_gone(self, now: float) -> bool:
        """A key whose deletion window has passed no longer exists, even before the sweeper runs."""
        return (
            self.state is KeyState.PENDING_DELETION
            and self.deletion_date is not None
            and self.deletion_date <= now
        )

    def with_state(self, state: KeyState, deletion_date: float | None = None) -> Key:
        return replace(self, state=state, deletion_date=deletion_date)

    def with_description(self, description: str) -> Key:
        return replace(self, description=description)

    def with_policy(self, policy: str) -> Key:
        return replace(self, policy=policy)

    def with_tags(self, tags: dict[str, str]) -> Key:
        return replace(self, tags=tuple(sorted(tags.items())))

    @property
    def tag_map(self) -> dict[str, str]:
        return dict(self.tags)

    def material_has_expired(self, now: float) -> bool:
        """Imported material past its ValidTo is gone: the key is PendingImport again."""
        return self.valid_to is not None and self.valid_to <= now

    def as_of(self, now: float) -> Key:
        """The key as it stands at `now`: expired imported material no longer counts."""
        if self.state is KeyState.ENABLED or self.state is KeyState.DISABLED:
            if self.material_has_expired(now):
                return replace(
                    self,
                    state=KeyState.PENDING_IMPORT,
                    wrapped_material=None,
                    expiration_model=None,
                    valid_to=None,
                )
        return self

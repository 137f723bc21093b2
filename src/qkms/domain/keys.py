"""The KMS key record and its vocabulary: states, usages, specs, origins, and what each can do (DESIGN §2, §4)."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, replace

from qkms.crypto import Curve
from qkms.storage.base import KeyRow

__all__ = [
    "Key",
    "KeyOrigin",
    "KeySpec",
    "KeyState",
    "KeyUsage",
    "curve_of",
    "is_supported_pair",
    "is_valid_aws_pair",
    "key_from_row",
    "key_to_row",
]


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

_AGREEMENT = {KeyUsage.KEY_AGREEMENT, KeyUsage.DERIVE_SHARED_SECRET}

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
}

# What QKMS itself can create today: the key-agreement keys this service exists for, plus
# symmetric and ECC signing keys so that key usage is really enforced on DeriveSharedSecret.
_SUPPORTED_PAIRS: dict[KeySpec, set[KeyUsage]] = {
    KeySpec.SYMMETRIC_DEFAULT: {KeyUsage.ENCRYPT_DECRYPT},
    **{spec: {KeyUsage.SIGN_VERIFY, *_AGREEMENT} for spec in _CURVES},
}


def is_valid_aws_pair(spec: KeySpec, usage: KeyUsage) -> bool:
    return usage in _AWS_PAIRS.get(spec, set())


def is_supported_pair(spec: KeySpec, usage: KeyUsage) -> bool:
    return usage in _SUPPORTED_PAIRS.get(spec, set())


def curve_of(spec: KeySpec) -> Curve | None:
    return _CURVES.get(spec)


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
    expiration_model: str | None = None  # imported material only (issue #4)
    valid_to: float | None = None  # imported material with KEY_MATERIAL_EXPIRES
    # Symmetric keys: the material version new encryptions use (AWS's CurrentKeyMaterialId).
    current_key_material_id: str | None = None

    def __repr__(self) -> str:
        return (
            f"Key({self.key_id}, {self.key_spec.value}, {self.key_usage.value}, {self.state.value})"
        )

    @property
    def is_enabled(self) -> bool:
        return self.state is KeyState.ENABLED

    @property
    def can_derive_shared_secret(self) -> bool:
        return self.key_usage.is_key_agreement and self.key_spec.is_ecc

    @property
    def is_asymmetric(self) -> bool:
        return self.public_key_der is not None

    @property
    def can_encrypt_symmetrically(self) -> bool:
        """Encrypt, Decrypt, ReEncrypt and the data key operations (DESIGN §4a)."""
        return self.key_usage is KeyUsage.ENCRYPT_DECRYPT and self.key_spec.is_symmetric

    @property
    def curve(self) -> Curve | None:
        return curve_of(self.key_spec)

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


def key_from_row(row: KeyRow) -> Key:
    return Key(
        key_id=row.key_id,
        account_id=row.account_id,
        description=row.description,
        key_usage=KeyUsage(row.key_usage),
        key_spec=KeySpec(row.key_spec),
        origin=KeyOrigin(row.origin),
        state=KeyState(row.key_state),
        creation_date=row.creation_date,
        deletion_date=row.deletion_date,
        public_key_der=row.public_key,
        wrapped_material=row.wrapped_material,
        policy=row.policy,
        tags=tuple(sorted(json.loads(row.tags).items())) if row.tags else (),
        expiration_model=row.expiration_model,
        valid_to=row.valid_to,
        current_key_material_id=row.current_key_material_id,
    )


def key_to_row(key: Key) -> KeyRow:
    return KeyRow(
        key_id=key.key_id,
        account_id=key.account_id,
        description=key.description,
        key_usage=key.key_usage.value,
        key_spec=key.key_spec.value,
        origin=key.origin.value,
        key_state=key.state.value,
        creation_date=key.creation_date,
        deletion_date=key.deletion_date,
        public_key=key.public_key_der,
        wrapped_material=key.wrapped_material,
        policy=key.policy,
        tags=json.dumps(dict(key.tags), sort_keys=True) if key.tags else None,
        expiration_model=key.expiration_model,
        valid_to=key.valid_to,
        current_key_material_id=key.current_key_material_id,
    )

"""QKMS's recipe layer over `cryptography`: curves, ECDH, wrapping, tokens (STYLE §7)."""

from qkms.crypto.curves import Curve
from qkms.crypto.ecdh import (
    GeneratedKeyPair,
    PeerPublicKey,
    PrivateKey,
    derive_shared_secret,
    generate_key_pair,
    load_peer_public_key,
    load_private_key,
)
from qkms.crypto.errors import (
    CryptoError,
    PeerKeyError,
    PeerKeyProblem,
    PrivateKeyError,
    RootKeyError,
    UnwrapError,
)
from qkms.crypto.grant_tokens import (
    GrantTokenClaims,
    GrantTokenError,
    open_grant_token,
    seal_grant_token,
)
from qkms.crypto.key_import import (
    ImportedPrivateKey,
    ImportToken,
    ImportTokenError,
    ImportUnwrapError,
    WrappingAlgorithm,
    WrappingKeyPair,
    WrappingKeySpec,
    generate_wrapping_key_pair,
    load_imported_private_key,
    new_token_id,
    open_import_token,
    seal_import_token,
    unwrap_key_material,
)
from qkms.crypto.random import random_bytes, random_token
from qkms.crypto.wrapping import RootKey, unwrap, wrap, wrapped_key_check_value

__all__ = [
    "CryptoError",
    "Curve",
    "GeneratedKeyPair",
    "GrantTokenClaims",
    "GrantTokenError",
    "ImportToken",
    "ImportTokenError",
    "ImportUnwrapError",
    "ImportedPrivateKey",
    "PeerKeyError",
    "PeerKeyProblem",
    "PeerPublicKey",
    "PrivateKey",
    "PrivateKeyError",
    "RootKey",
    "RootKeyError",
    "UnwrapError",
    "WrappingAlgorithm",
    "WrappingKeyPair",
    "WrappingKeySpec",
    "derive_shared_secret",
    "generate_key_pair",
    "generate_wrapping_key_pair",
    "load_imported_private_key",
    "load_peer_public_key",
    "load_private_key",
    "new_token_id",
    "open_grant_token",
    "open_import_token",
    "random_bytes",
    "random_token",
    "seal_grant_token",
    "seal_import_token",
    "unwrap",
    "unwrap_key_material",
    "wrap",
    "wrapped_key_check_value",
]

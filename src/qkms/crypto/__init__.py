"""QKMS's recipe layer over `cryptography`: curves, ECDH, key wrapping, randomness (STYLE §7)."""

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
from qkms.crypto.random import random_bytes, random_token
from qkms.crypto.wrapping import RootKey, unwrap, wrap, wrapped_key_check_value

__all__ = [
    "CryptoError",
    "Curve",
    "GeneratedKeyPair",
    "PeerKeyError",
    "PeerKeyProblem",
    "PeerPublicKey",
    "PrivateKey",
    "PrivateKeyError",
    "RootKey",
    "RootKeyError",
    "UnwrapError",
    "derive_shared_secret",
    "generate_key_pair",
    "load_peer_public_key",
    "load_private_key",
    "random_bytes",
    "random_token",
    "unwrap",
    "wrap",
    "wrapped_key_check_value",
]

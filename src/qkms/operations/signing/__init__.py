"""Sign and Verify (DESIGN §4a): asymmetric signatures with RSA, ECDSA and ML-DSA keys."""

from qkms.operations.signing.sign import sign
from qkms.operations.signing.verify import verify

__all__ = ["sign", "verify"]

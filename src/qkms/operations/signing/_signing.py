"""What Sign and Verify share: reading the algorithm and message type, and the checks AWS makes.

AWS's errors, in the order AWS makes its checks. The usage message is DeriveSharedSecret's
(DESIGN §3); "Algorithm ... is incompatible with key spec ..." is LocalStack's AWS-validated
wording; "Digest is invalid length for algorithm ..." is what public probes of the real service
record. AWS's wording for a refused message type is not on record; QKMS's follows the pattern:
- a key that is not SIGN_VERIFY: InvalidKeyUsageException
  "<key arn> key usage is <usage> which is not valid for <Operation>."
- an algorithm the key spec does not offer: InvalidKeyUsageException
  "Algorithm <algorithm> is incompatible with key spec <spec>."
- a message type the algorithm does not take (DIGEST for ML-DSA, EXTERNAL_MU for RSA and
  ECDSA): ValidationException "Message type <type> is incompatible with algorithm <algorithm>."
- a DIGEST or EXTERNAL_MU of the wrong length: ValidationException
  "Digest is invalid length for algorithm <algorithm>."
"""

from __future__ import annotations

from qkms.crypto import (
    MessageType,
    SigningAlgorithm,
    SigningKeySpec,
    accepts_message_type,
    can_sign_with,
    required_message_length,
)
from qkms.domain.errors import InvalidKeyUsageException, ValidationException
from qkms.domain.keys import Key
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import CachedKey, OperationContext
from qkms.operations.shapes.signing import SignRequest, VerifyRequest
from qkms.operations.support.keys import key_arn, load_cached_key

__all__ = ["SigningRequest", "load_signing_key"]


class SigningRequest:
    """The checked facts of one Sign or Verify call."""

    __slots__ = ("algorithm", "cached", "message_type", "spec")

    def __init__(
        self,
        cached: CachedKey,
        spec: SigningKeySpec,
        algorithm: SigningAlgorithm,
        message_type: MessageType,
    ) -> None:
        self.cached = cached
        self.spec = spec
        self.algorithm = algorithm
        self.message_type = message_type

    @property
    def key(self) -> Key:
        return self.cached.key


def load_signing_key(
    ctx: OperationContext, operation: KeyOperation, request: SignRequest | VerifyRequest
) -> SigningRequest:
    """Resolve, authorize (with kms:SigningAlgorithm and kms:MessageType), state-check the key,
    then check usage, algorithm, message type and message length, in AWS's order."""
    algorithm_name = request.signing_algorithm
    message = request.message or b""
    message_type_value = request.message_type or MessageType.RAW.value
    cached = load_cached_key(
        ctx,
        request.key_id,
        operation,
        request.grant_tokens,
        {
            "kms:SigningAlgorithm": algorithm_name or "",
            "kms:MessageType": message_type_value,
        },
    )
    key = cached.key
    spec = key.signing_spec
    if not key.can_sign or spec is None:
        raise InvalidKeyUsageException(
            f"{key_arn(ctx, key)} key usage is {key.key_usage.value} which is not valid for "
            f"{operation.value}."
        )
    algorithm = _algorithm(algorithm_name)
    if algorithm is None or not can_sign_with(spec, algorithm):
        raise InvalidKeyUsageException(
            f"Algorithm {algorithm_name} is incompatible with key spec {key.key_spec.value}."
        )
    message_type = MessageType(message_type_value)
    if not accepts_message_type(algorithm, message_type):
        raise ValidationException(
            f"Message type {message_type.value} is incompatible with algorithm {algorithm.value}."
        )
    required = required_message_length(algorithm, message_type)
    if required is not None and len(message) != required:
        raise ValidationException(f"Digest is invalid length for algorithm {algorithm.value}.")
    return SigningRequest(cached, spec, algorithm, message_type)


def _algorithm(name: str | None) -> SigningAlgorithm | None:
    """The algorithm QKMS knows by this name; None for SM2DSA, Ed25519 and the like."""
    try:
        return SigningAlgorithm(name)
    except ValueError:
        return None

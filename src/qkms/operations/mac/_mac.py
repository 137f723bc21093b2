"""What GenerateMac and VerifyMac share: the key, its checks and its unwrapped HMAC key.

AWS's errors, in the order AWS makes its checks:
- a key that is not GENERATE_VERIFY_MAC: InvalidKeyUsageException
  "<key arn> key usage is <usage> which is not valid for <Operation>."
- a MAC algorithm other than the key spec's one: InvalidKeyUsageException
  "Algorithm <algorithm> is incompatible with key spec <spec>."
"""

from __future__ import annotations

from qkms.crypto import CryptoError, HmacKey
from qkms.domain.errors import (
    DryRunOperationException,
    InvalidKeyUsageException,
    KMSInternalException,
)
from qkms.domain.key_material import unwrap_hmac_key
from qkms.domain.keys import Key
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.mac import GenerateMacRequest, VerifyMacRequest
from qkms.operations.support.keys import key_arn, load_cached_key

__all__ = ["load_mac_key"]


def load_mac_key(
    ctx: OperationContext,
    operation: KeyOperation,
    request: GenerateMacRequest | VerifyMacRequest,
) -> tuple[Key, HmacKey]:
    """Resolve, authorize (with kms:MacAlgorithm), state-check, check usage and algorithm, and
    unwrap the key's HMAC material (cached with the key); then, every check passed, stop a
    DryRun. Both operations ask exactly this before they touch the message."""
    algorithm_name = request.mac_algorithm
    cached = load_cached_key(
        ctx,
        request.key_id,
        operation,
        request.grant_tokens,
        {"kms:MacAlgorithm": algorithm_name or ""},
    )
    key = cached.key
    spec = key.hmac_spec
    if not key.can_mac or spec is None:
        raise InvalidKeyUsageException(
            f"{key_arn(ctx, key)} key usage is {key.key_usage.value} which is not valid for "
            f"{operation.value}."
        )
    if algorithm_name != spec.mac_algorithm.value:
        raise InvalidKeyUsageException(
            f"Algorithm {algorithm_name} is incompatible with key spec {key.key_spec.value}."
        )
    mac_key = cached.mac_key
    if mac_key is None:
        try:
            mac_key = unwrap_hmac_key(ctx.services.root_key, key)
        except (CryptoError, ValueError) as exc:
            # A wrong root key or a damaged row: an operator problem, never detailed here.
            raise KMSInternalException("The key material could not be used.") from exc
        cached.mac_key = mac_key
        ctx.services.parsed_keys.holding(cached)
    if request.dry_run:
        raise DryRunOperationException(
            "The request would have succeeded, but the DryRun option is set."
        )
    return key, mac_key

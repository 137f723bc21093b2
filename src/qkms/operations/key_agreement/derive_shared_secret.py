"""DeriveSharedSecret (DESIGN §3): ECDH between a key's private key and the caller's public key.

Reads top to bottom: parse -> load -> check -> act -> respond. The shared secret exists only in
the response; it is never stored, logged or put in an exception (DESIGN §3).
"""

from __future__ import annotations

from collections.abc import Callable

from qkms.crypto import (
    PeerKeyError,
    PeerKeyProblem,
    derive_xdh_shared_secret,
    load_peer_public_key,
    load_xdh_peer_public_key,
)
from qkms.crypto import (
    derive_shared_secret as ecdh,
)
from qkms.domain.errors import (
    DryRunOperationException,
    InvalidKeyUsageException,
    InvalidPublicKeyException,
)
from qkms.domain.keys import Key
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.key_agreement._private_keys import ecdh_private_key, xdh_private_key
from qkms.operations.runtime.context import CachedKey, OperationContext
from qkms.operations.shapes import DeriveSharedSecretRequest, DeriveSharedSecretResponse
from qkms.operations.support.keys import key_arn, load_cached_key
from qkms.operations.support.recipients import attested_recipient, condition_facts_of

__all__ = ["derive_shared_secret"]

# One message per way a peer key can be wrong (STYLE §5); none repeats the key's bytes.
_PEER_KEY_MESSAGES = {
    PeerKeyProblem.NOT_DER_SPKI: "PublicKey is not a DER-encoded X.509 SubjectPublicKeyInfo.",
    PeerKeyProblem.NOT_EC_KEY: "PublicKey is not an elliptic curve public key.",
    PeerKeyProblem.WRONG_CURVE: "PublicKey uses a different curve than the KMS key ({spec}).",
    PeerKeyProblem.UNSUPPORTED_CURVE: "PublicKey uses a curve QKMS does not support.",
    PeerKeyProblem.POINT_NOT_ON_CURVE: "PublicKey is not a point on the {spec} curve.",
    PeerKeyProblem.POINT_AT_INFINITY: "PublicKey is the point at infinity.",
    PeerKeyProblem.INVALID_ENCODING: "PublicKey has an invalid encoding.",
    # RFC 7748 §6.1: an X25519/X448 point whose shared secret is all zeros (DESIGN §4a).
    PeerKeyProblem.SMALL_ORDER_POINT: "PublicKey is a small-order point.",
}


def _agreement(ctx: OperationContext, cached: CachedKey, public_key: bytes) -> Callable[[], bytes]:
    """Check the peer key against the KMS key's curve; return the exchange, ready to run.

    ECDH curves and the RFC 7748 curves (X25519, X448) raise the same PeerKeyError problems,
    so DeriveSharedSecret keeps one error table for both (DESIGN §3, §4a).
    """
    key = cached.key
    xdh_curve = key.xdh_curve
    if xdh_curve is not None:
        xdh_peer = load_xdh_peer_public_key(public_key, xdh_curve)
        xdh_key = xdh_private_key(ctx, cached)
        return lambda: derive_xdh_shared_secret(xdh_key, xdh_peer)
    curve = key.curve
    if curve is None:  # unreachable: the caller checked can_derive_shared_secret
        raise _usage_error(ctx, key)
    peer = load_peer_public_key(public_key, curve)
    private_key = ecdh_private_key(ctx, cached)
    return lambda: ecdh(private_key, peer)


def _usage_error(ctx: OperationContext, key: Key) -> InvalidKeyUsageException:
    return InvalidKeyUsageException(
        f"{key_arn(ctx, key)} key usage is {key.key_usage.value} which is not valid for "
        "DeriveSharedSecret."
    )


def derive_shared_secret(
    ctx: OperationContext, request: DeriveSharedSecretRequest
) -> DeriveSharedSecretResponse:
    # parse: an attested recipient (Recipient, or the seed's RecipientInfo) is verified
    # before anything else; one that does not verify refuses the call (DESIGN §3 "Recipients").
    recipient = attested_recipient(ctx, request.recipient, request.recipient_info)
    facts = condition_facts_of(recipient)
    facts["kms:KeyAgreementAlgorithm"] = request.key_agreement_algorithm or "ECDH"

    # load: resolution, authorization (kms:KeyAgreementAlgorithm and the recipient's
    # kms:RecipientAttestation:* condition keys) and the key-state table, in one place.
    cached = load_cached_key(
        ctx, request.key_id, KeyOperation.DERIVE_SHARED_SECRET, request.grant_tokens, facts
    )
    key = cached.key

    # check: usage, then the peer key against this key's curve.
    if not key.can_derive_shared_secret:
        raise _usage_error(ctx, key)
    try:
        exchange = _agreement(ctx, cached, request.public_key or b"")
    except PeerKeyError as exc:
        message = _PEER_KEY_MESSAGES[exc.reason].format(spec=key.key_spec.value)
        raise InvalidPublicKeyException(message) from None
    if request.dry_run:
        raise DryRunOperationException(
            "The request would have succeeded, but the DryRun option is set."
        )

    # act
    try:
        shared_secret = exchange()
    except PeerKeyError as exc:
        message = _PEER_KEY_MESSAGES[exc.reason].format(spec=key.key_spec.value)
        raise InvalidPublicKeyException(message) from None

    # respond: to a recipient, the secret only inside its envelope.
    return DeriveSharedSecretResponse(
        key_id=key_arn(ctx, key),
        shared_secret=shared_secret if recipient is None else None,
        ciphertext_for_recipient=recipient.seal(shared_secret) if recipient else None,
        key_agreement_algorithm="ECDH",
        key_origin=key.origin.value,
    )

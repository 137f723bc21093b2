"""VerifyMac (DESIGN §4a; AWS API reference "VerifyMac"): check an HMAC in constant time.

Reads top to bottom: parse -> load and check -> act -> respond. A MAC that does not match
(truncated ones included: KMS offers no truncation) is KMSInvalidMacException; AWS never
answers MacValid false.
"""

from __future__ import annotations

from qkms.crypto import MacVerificationError
from qkms.crypto import verify_mac as check_mac
from qkms.domain.errors import KMSInvalidMacException
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.mac._mac import load_mac_key
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.mac import VerifyMacRequest, VerifyMacResponse
from qkms.operations.support.keys import key_arn

__all__ = ["verify_mac"]

# botocore's description of KMSInvalidMacException (the kms service model).
_INVALID_MAC = (
    "The request was rejected because the HMAC verification failed. HMAC verification fails "
    "when the HMAC computed by using the specified message, HMAC KMS key, and MAC algorithm "
    "does not match the HMAC specified in the request."
)


def verify_mac(ctx: OperationContext, request: VerifyMacRequest) -> VerifyMacResponse:
    # parse
    message = request.message or b""
    mac = request.mac or b""

    # load and check (a DryRun stops there)
    key, mac_key = load_mac_key(ctx, KeyOperation.VERIFY_MAC, request)

    # act
    try:
        check_mac(mac_key, message, mac)
    except MacVerificationError:
        raise KMSInvalidMacException(_INVALID_MAC) from None

    # respond
    return VerifyMacResponse(
        key_id=key_arn(ctx, key), mac_valid=True, mac_algorithm=mac_key.spec.mac_algorithm.value
    )

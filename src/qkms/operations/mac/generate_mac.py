"""GenerateMac (DESIGN §4a; AWS API reference "GenerateMac"): the HMAC of a message.

Reads top to bottom: parse -> load and check -> act -> respond. Neither the message nor the
MAC is stored, logged or put in an audit event.
"""

from __future__ import annotations

from qkms.crypto import generate_mac as hmac_of
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.mac._mac import load_mac_key
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.mac import GenerateMacRequest, GenerateMacResponse
from qkms.operations.support.keys import key_arn

__all__ = ["generate_mac"]


def generate_mac(ctx: OperationContext, request: GenerateMacRequest) -> GenerateMacResponse:
    # parse
    message = request.message or b""

    # load and check (a DryRun stops there)
    key, mac_key = load_mac_key(ctx, KeyOperation.GENERATE_MAC, request)

    # act and respond: always the full-length tag, as KMS returns it.
    return GenerateMacResponse(
        mac=hmac_of(mac_key, message),
        mac_algorithm=mac_key.spec.mac_algorithm.value,
        key_id=key_arn(ctx, key),
    )

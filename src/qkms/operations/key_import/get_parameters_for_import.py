"""GetParametersForImport (DESIGN §4): a fresh RSA wrapping key and import token.

AWS's rules kept: the key's Origin must be EXTERNAL (else UnsupportedOperationException); the
public key and token are valid for 24 hours; a key in PendingImport, Enabled or Disabled state
may ask (the last two to reimport the same material). QKMS keeps only the latest parameters
per key, so a token from an earlier call is refused as invalid once a newer one exists.
"""

from __future__ import annotations

from typing import Final

from qkms.crypto import (
    ImportToken,
    WrappingAlgorithm,
    WrappingKeySpec,
    generate_wrapping_key_pair,
    new_token_id,
    seal_import_token,
)
from qkms.domain.errors import UnsupportedOperationException
from qkms.domain.key_material import wrap_wrapping_key
from qkms.domain.keys import Key, KeyOrigin
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.key_import import (
    GetParametersForImportRequest,
    GetParametersForImportResponse,
)
from qkms.operations.support.keys import key_arn, load_cached_key
from qkms.storage.base import ImportParametersRow

__all__ = ["IMPORT_PARAMETERS_LIFETIME_SECONDS", "get_parameters_for_import", "require_external"]

# AWS: "The public key and import token ... are valid for 24 hours."
IMPORT_PARAMETERS_LIFETIME_SECONDS: Final = 24 * 3600


def require_external(ctx: OperationContext, key: Key, operation: KeyOperation) -> None:
    """Import operations serve only keys created for imported material (Origin EXTERNAL)."""
    if key.origin is not KeyOrigin.EXTERNAL:
        raise UnsupportedOperationException(
            f"{key_arn(ctx, key)} origin is {key.origin.value} which is not valid for "
            f"{operation.value}."
        )


def _wrapping_choice(
    request: GetParametersForImportRequest,
) -> tuple[WrappingAlgorithm, WrappingKeySpec]:
    algorithm, spec = request.wrapping_algorithm, request.wrapping_key_spec
    # The codec has checked both against AWS's enums; these are AWS values QKMS does not serve:
    # RSAES_PKCS1_V1_5 (AWS dropped it in 2023) and SM2 (China Regions only).
    if algorithm not in WrappingAlgorithm._value2member_map_:
        raise UnsupportedOperationException(f"WrappingAlgorithm {algorithm} is not supported.")
    if spec not in WrappingKeySpec._value2member_map_:
        raise UnsupportedOperationException(f"WrappingKeySpec {spec} is not supported.")
    return WrappingAlgorithm(algorithm), WrappingKeySpec(spec)


def get_parameters_for_import(
    ctx: OperationContext, request: GetParametersForImportRequest
) -> GetParametersForImportResponse:
    # parse
    algorithm, spec = _wrapping_choice(request)

    # load and check
    operation = KeyOperation.GET_PARAMETERS_FOR_IMPORT
    key = load_cached_key(ctx, request.key_id, operation).key
    require_external(ctx, key, operation)

    # act: the RSA private key is stored only wrapped, bound to this key and this token.
    services = ctx.services
    pair = generate_wrapping_key_pair(spec)
    now = services.clock()
    expires_at = int(now) + IMPORT_PARAMETERS_LIFETIME_SECONDS
    token = ImportToken(token_id=new_token_id(), key_id=key.key_id, expires_at=expires_at)
    services.store.put_import_parameters(
        ImportParametersRow(
            key_id=key.key_id,
            wrapping_key_spec=spec.value,
            wrapping_algorithm=algorithm.value,
            wrapped_wrapping_key=wrap_wrapping_key(
                services.root_key, key.key_id, token.token_id.hex(), pair.private_pkcs8_der
            ),
            token_id=token.token_id.hex(),
            created_at=now,
            expires_at=float(expires_at),
        )
    )

    # respond
    return GetParametersForImportResponse(
        key_id=key_arn(ctx, key),
        import_token=seal_import_token(services.root_key, token),
        public_key=pair.public_spki_der,
        parameters_valid_to=float(expires_at),
    )

"""Who is calling: verify SigV4 and resolve the caller, off the event loop only when needed.

DESIGN §5. The credential cache answers most calls on the event loop; when the store must be
asked (a first call, an evicted user) the same check runs again in a worker thread, so a slow
store never blocks the loop.
"""

from __future__ import annotations

from qkms.audit.ids import random_uuid
from qkms.domain.errors import UnrecognizedClientException
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.runtime.credentials import CredentialResolver
from qkms.operations.runtime.dispatch import WouldBlock, call_with_store_off_limits
from qkms.wire.messages import ApiRequest
from qkms.wire.sigv4 import SigV4Verifier
from qkms.wire.workers import Workers

__all__ = ["Authenticator"]


class Authenticator:
    def __init__(
        self, services: Services, credentials: CredentialResolver, workers: Workers
    ) -> None:
        self._services = services
        self._credentials = credentials
        self._workers = workers
        self._verifier = SigV4Verifier(credentials.secret_for, clock=services.clock)

    async def authenticate(self, request: ApiRequest, request_id: str) -> OperationContext:
        """The context the operation runs in, once the signature and the caller check out."""

        def authenticate() -> OperationContext:
            # The headers as received: the verifier decodes only those SigV4 reads.
            verified = self._verifier.verify_wire(
                request.method, request.path, request.query_string, request.headers, request.body
            )
            return self._context(request, verified.access_key_id, verified.region, request_id)

        try:
            return call_with_store_off_limits(authenticate)
        except WouldBlock:
            return await self._workers.run(authenticate)

    def _context(
        self, request: ApiRequest, access_key_id: str, region: str, request_id: str
    ) -> OperationContext:
        caller = self._credentials.caller(
            access_key_id,
            source_ip=request.client_ip,
            user_agent=request.header(b"user-agent").decode("latin-1"),
            secure_transport=request.is_secure,
        )
        if caller is None:  # revoked between signature check and here
            raise UnrecognizedClientException(
                "The security token included in the request is invalid."
            )
        return OperationContext(
            services=self._services,
            caller=caller,
            request_id=request_id,
            signed_region=region,
            event_id=random_uuid(),
        )

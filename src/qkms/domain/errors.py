"""Every error QKMS can answer with: one class per AWS KMS error code (DESIGN §1, §3, §5).

Hierarchy::

    KmsError                              base; `code` is the wire `__type`
    ├── NotFoundException                 key reference resolves to nothing the caller may see
    ├── DisabledException                 key state Disabled
    ├── KMSInvalidStateException          key state does not permit the operation
    ├── InvalidKeyUsageException          key usage does not permit the operation
    ├── InvalidPublicKeyException         peer public key unusable (any reason, one message)
    ├── UnsupportedOperationException     parameter or value QKMS (or this key) cannot serve
    ├── ValidationException               missing member, out of range, not in an enum
    ├── SerializationException            body not JSON, or a member of the wrong type
    ├── UnknownOperationException         X-Amz-Target names no operation
    ├── InvalidMarkerException            ListKeys Marker we did not issue
    ├── InvalidImportTokenException       import token tampered, superseded, or for another key
    ├── ExpiredImportTokenException       import token past its 24 hours
    ├── IncorrectKeyMaterialException     imported material invalid, or not the key's material
    ├── InvalidCiphertextException        a ciphertext or wrapped material that does not decrypt
    ├── KMSInvalidSignatureException      Verify: the signature does not verify
    ├── KMSInvalidMacException            VerifyMac: the MAC does not match
    ├── IncorrectKeyException             Decrypt/ReEncrypt KeyId is not the key of the ciphertext
    ├── CustomKeyStoreNotFoundException   a CustomKeyStoreId that names no custom key store
    ├── ConflictException                 an on-demand rotation of the key is already running
    ├── LimitExceededException            a per-key quota (e.g. 25 on-demand rotations) is used up
    ├── AlreadyExistsException            an alias name that is taken
    ├── NotAuthorizedException            a reserved name (alias/aws/...)
    ├── TagException                      a tag that breaks AWS's tag rules
    ├── InvalidGrantTokenException        a grant token that names no grant
    ├── InvalidGrantIdException           a grant id that names no grant of the key
    ├── MalformedPolicyDocumentException  a key or identity policy that does not parse or validate
    ├── DryRunOperationException          DryRun=true and the call would have succeeded
    ├── AccessDeniedException             authenticated, but not allowed
    ├── MissingAuthenticationTokenException  no SigV4 credentials at all
    ├── IncompleteSignatureException      Authorization header present but malformed
    ├── UnrecognizedClientException       unknown or inactive access key id
    ├── InvalidSignatureException         signature mismatch or outside the clock window
    ├── RequestEntityTooLargeException    body over the 64 KiB limit (HTTP 413)
    ├── ThrottlingException               the caller's account exceeded a request quota
    ├── RequestTimeoutException           request not fully received within the read timeout
    ├── ServiceUnavailableException       connection refused: the worker is at its limit
    ├── DependencyTimeoutException        the store did not answer within its deadline
    └── KMSInternalException              anything unexpected (no detail reaches the caller)

Errors carry only a human message. The HTTP status of each code lives in the wire layer's
one table (`qkms.wire.errors`), never here.
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedException",
    "AlreadyExistsException",
    "ConflictException",
    "CustomKeyStoreNotFoundException",
    "DependencyTimeoutException",
    "DisabledException",
    "DryRunOperationException",
    "ExpiredImportTokenException",
    "IncompleteSignatureException",
    "IncorrectKeyException",
    "IncorrectKeyMaterialException",
    "InvalidCiphertextException",
    "InvalidGrantIdException",
    "InvalidGrantTokenException",
    "InvalidImportTokenException",
    "InvalidKeyUsageException",
    "InvalidMarkerException",
    "InvalidPublicKeyException",
    "InvalidSignatureException",
    "KMSInternalException",
    "KMSInvalidMacException",
    "KMSInvalidSignatureException",
    "KMSInvalidStateException",
    "KmsError",
    "LimitExceededException",
    "MalformedPolicyDocumentException",
    "MissingAuthenticationTokenException",
    "NotAuthorizedException",
    "NotFoundException",
    "RequestEntityTooLargeException",
    "RequestTimeoutException",
    "SerializationException",
    "ServiceUnavailableException",
    "TagException",
    "ThrottlingException",
    "UnknownOperationException",
    "UnrecognizedClientException",
    "UnsupportedOperationException",
    "ValidationException",
]


class KmsError(Exception):
    """Base of every error that is answered on the wire with its class name as `__type`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def code(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"{self.code}({self.message!r})"


class NotFoundException(KmsError):
    pass


class DisabledException(KmsError):
    pass


class KMSInvalidStateException(KmsError):
    pass


class InvalidKeyUsageException(KmsError):
    pass


class InvalidPublicKeyException(KmsError):
    pass


class UnsupportedOperationException(KmsError):
    pass


class ValidationException(KmsError):
    pass


class SerializationException(KmsError):
    pass


class UnknownOperationException(KmsError):
    pass


class InvalidMarkerException(KmsError):
    pass


class InvalidImportTokenException(KmsError):
    pass


class ExpiredImportTokenException(KmsError):
    pass


class IncorrectKeyMaterialException(KmsError):
    pass


class InvalidCiphertextException(KmsError):
    pass


class KMSInvalidSignatureException(KmsError):
    pass


class KMSInvalidMacException(KmsError):
    pass


class IncorrectKeyException(KmsError):
    pass


class CustomKeyStoreNotFoundException(KmsError):
    pass


class ConflictException(KmsError):
    pass


class LimitExceededException(KmsError):
    pass


class AlreadyExistsException(KmsError):
    pass


class NotAuthorizedException(KmsError):
    pass


class TagException(KmsError):
    pass


class InvalidGrantTokenException(KmsError):
    pass


class InvalidGrantIdException(KmsError):
    pass


class MalformedPolicyDocumentException(KmsError):
    pass


class DryRunOperationException(KmsError):
    pass


class AccessDeniedException(KmsError):
    pass


class MissingAuthenticationTokenException(KmsError):
    pass


class IncompleteSignatureException(KmsError):
    pass


class UnrecognizedClientException(KmsError):
    pass


class InvalidSignatureException(KmsError):
    pass


class RequestEntityTooLargeException(KmsError):
    pass


class ThrottlingException(KmsError):
    pass


class RequestTimeoutException(KmsError):
    pass


class ServiceUnavailableException(KmsError):
    pass


class DependencyTimeoutException(KmsError):
    pass


class KMSInternalException(KmsError):
    pass

"""Verify AWS Signature Version 4 (Authorization header form) on an incoming request (DESIGN §5)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn, Protocol
from urllib.parse import quote, unquote_to_bytes

from qkms.domain.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

__all__ = ["SigV4Verifier", "SignedRequest", "VerifiedCaller"]

_ALGORITHM = "AWS4-HMAC-SHA256"
_TERMINATOR = "aws4_request"
_AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_AMZ_DATE_RE = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")
_SIGNATURE_RE = re.compile(r"[0-9a-fA-F]{64}")
_ALGORITHM_NAME_RE = re.compile(r"[A-Za-z0-9-]{1,24}")
_PRESIGN_PARAMS = frozenset({"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"})
# DESIGN §5: what a KMS signature must cover. Unsigned, X-Amz-Target could be swapped on a
# captured request (DescribeKey replayed as DisableKey); botocore, the AWS CLI, the JS SDK and
# the console all sign these three.
_KMS_SIGNED_HEADERS = ("host", "x-amz-date", "x-amz-target")
# How AWS spells each in its "'<Header>' must be a 'SignedHeader'" refusal.
_DISPLAY_NAMES = {"host": "Host", "x-amz-date": "X-Amz-Date", "x-amz-target": "X-Amz-Target"}
_UNRECOGNIZED_CLIENT = "The security token included in the request is invalid."
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A request as received. Text fields are the wire bytes decoded as UTF-8 (path, query) and
    latin-1 (header values), which is how botocore's bytes map back to the strings it signed."""

    method: str
    path: str
    query_string: str
    headers: Sequence[tuple[str, str]]
    body: bytes


@dataclass(frozen=True, slots=True)
class VerifiedCaller:
    access_key_id: str
    region: str
    signed_at: float


class SigV4Verifier:
    """Checks SigV4 signatures against secrets from `lookup_secret`, within a clock window."""

    def __init__(
        self,
        lookup_secret: Callable[[str], str | None],
        clock: Callable[[], float],
        service: str = "kms",
        max_skew_seconds: float = 300.0,
        signing_key_cache_size: int = 1024,
        required_signed_headers: Sequence[str] = _KMS_SIGNED_HEADERS,
    ) -> None:
        if signing_key_cache_size < 0:
            raise ValueError("signing_key_cache_size must not be negative")
        self._lookup_secret = lookup_secret
        self._clock = clock
        self._service = service
        self._max_skew = max_skew_seconds
        self._cache_size = signing_key_cache_size
        self._required = tuple(required_signed_headers)
        # (access key id, scope date, region) -> (the secret it was derived from, signing key).
        self._cache: OrderedDict[tuple[str, str, str], tuple[str, bytes]] = OrderedDict()
        self._cache_lock = threading.Lock()

    def verify(self, request: SignedRequest) -> VerifiedCaller:
        headers = _TextHeaders(request.headers)
        return self._verify(
            request.method, request.path, request.query_string, headers, request.body
        )

    def verify_wire(
        self,
        method: str,
        path: str,
        query_string: str,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
    ) -> VerifiedCaller:
        """`verify` for headers as an ASGI server hands them over (lower-case names, values as
        bytes): the same checks, decoding as latin-1 only the headers SigV4 reads."""
        return self._verify(method, path, query_string, _WireHeaders(headers), body)

    def _verify(
        self, method: str, path: str, query_string: str, headers: _Headers, body: bytes
    ) -> VerifiedCaller:
        auth = _read_authorization(query_string, headers)
        amz_date = auth.amz_date
        signed_at = _parse_amz_date(amz_date)
        # QKMS issues no session credentials, so any token is one we did not issue.
        if headers.has("x-amz-security-token"):
            raise UnrecognizedClientException(_UNRECOGNIZED_CLIENT)
        self._check_clock(amz_date, signed_at)
        canonical_headers = self._check_scope(auth, headers)
        secret = self._lookup_secret(auth.access_key_id)
        if secret is None:
            raise UnrecognizedClientException(_UNRECOGNIZED_CLIENT)
        canonical_request = _canonical_request(
            method, path, query_string, body, headers, auth, canonical_headers
        )
        string_to_sign = (
            f"{_ALGORITHM}\n{amz_date}\n"
            f"{auth.scope_date}/{auth.region}/{auth.service}/{auth.terminator}\n"
            f"{hashlib.sha256(_utf8(canonical_request)).hexdigest()}"
        )
        signing_key = self._signing_key(auth.access_key_id, secret, auth.scope_date, auth.region)
        expected = hmac.digest(signing_key, _utf8(string_to_sign), "sha256").hex()
        if not hmac.compare_digest(expected, auth.signature.lower()):
            raise InvalidSignatureException(_MISMATCH)
        return VerifiedCaller(auth.access_key_id, auth.region, signed_at)

    def _check_scope(self, auth: _Authorization, headers: _Headers) -> str:
        """The signed headers' canonical block, once the scope and the signed names check out."""
        # AWS answers these with InvalidSignature, not IncompleteSignature, and reports all scope
        # mismatches in one message, a scope date that differs from X-Amz-Date included (as
        # recorded from AWS's JSON services). Any region is accepted (DESIGN §5). AWS words
        # every required-but-unsigned header alike ("'Content-Type' must be a 'SignedHeader'
        # in the AWS Authorization." is recorded for services that require Content-Type).
        signed_names = auth.signed_names
        for name in self._required:
            if name not in signed_names:
                raise InvalidSignatureException(
                    f"'{_DISPLAY_NAMES.get(name, name)}' must be a 'SignedHeader' "
                    "in the AWS Authorization."
                )
        if (
            auth.service != self._service
            or auth.terminator != _TERMINATOR
            or auth.scope_date != auth.amz_date[:8]
        ):
            self._refuse_scope(auth)
        return headers.canonical(signed_names)

    def _refuse_scope(self, auth: _Authorization) -> NoReturn:
        problems = []
        if auth.service != self._service:
            problems.append(f"Credential should be scoped to correct service: '{self._service}'.")
        if auth.terminator != _TERMINATOR:
            problems.append(
                f"Credential should be scoped with a valid terminator: '{_TERMINATOR}', "
                f"not '{auth.terminator}'."
            )
        if auth.scope_date != auth.amz_date[:8]:
            problems.append(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                f"from HTTP: '{auth.scope_date}' != '{auth.amz_date[:8]}', "
                f"from '{auth.amz_date}'."
            )
        raise InvalidSignatureException(" ".join(problems))

    def _check_clock(self, amz_date: str, signed_at: float) -> None:
        now = self._clock()
        if signed_at < now - self._max_skew:
            raise InvalidSignatureException(
                f"Signature expired: {amz_date} is now earlier than "
                f"{_format_amz_date(now - self._max_skew)} ({_format_amz_date(now)} - "
                f"{self._max_skew / 60:g} min.)"
            )
        if signed_at > now + self._max_skew:
            raise InvalidSignatureException(
                f"Signature not yet current: {amz_date} is still later than "
                f"{_format_amz_date(now + self._max_skew)} ({_format_amz_date(now)} + "
                f"{self._max_skew / 60:g} min.)"
            )

    def _signing_key(self, access_key_id: str, secret: str, date: str, region: str) -> bytes:
        # An entry serves only the secret it was derived from, so a rotated secret misses at
        # once. The secret is compared rather than hashed into the key (a SHA-256 per call):
        # it is the same string object the credential cache holds, not another copy, and both
        # sides of `==` are server-side values, so its timing tells a caller nothing.
        cache_key = (access_key_id, date, region)
        with self._cache_lock:
            cached = self._cache.get(cache_key)
            if cached is not None and cached[0] == secret:
                self._cache.move_to_end(cache_key)
                return cached[1]
        key = _hmac(_utf8("AWS4" + secret), date)
        for part in (region, self._service, _TERMINATOR):
            key = _hmac(key, part)
        with self._cache_lock:
            self._cache[cache_key] = (secret, key)  # replaces an entry of a previous secret
            self._cache.move_to_end(cache_key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return key


class _Headers(Protocol):
    """The request's headers indexed once, so each lookup below is a dict lookup instead of a
    scan of the list. Lookups take and give text: a header's wire bytes read as latin-1."""

    def has(self, name: str) -> bool: ...

    def single(self, name: str) -> str | None:
        """The value of a header that must not repeat; None when it is absent."""
        ...

    def canonical(self, names: tuple[str, ...]) -> str:
        """The canonical headers block of `names` (signed, in the order signed): per name a line
        "name:values", each value trimmed and its inner whitespace runs collapsed, repeats
        joined with ',' in the order received (botocore's _header_value and canonical_headers).
        Refuses the first name the request lacks."""
        ...


def _refuse_missing(name: str) -> NoReturn:
    raise IncompleteSignatureException(f"Signed header '{name}' is not present in the request.")


def _refuse_repeated(name: str) -> NoReturn:
    # Two Authorization or X-Amz-Date headers are ambiguous; refuse rather than pick one.
    raise IncompleteSignatureException(f"The '{name}' header appears more than once.")


class _TextHeaders:
    """Headers already decoded to text (SignedRequest's)."""

    __slots__ = ("_index", "_repeated")

    def __init__(self, headers: Sequence[tuple[str, str]]) -> None:
        self._index = dict(headers)  # name -> its (last) value
        # Every value of every name, in order; built only when some name repeats, which no SDK
        # does for the headers SigV4 reads.
        self._repeated: dict[str, list[str]] | None = None
        if len(self._index) != len(headers):
            self._repeated = {}
            for name, value in headers:
                self._repeated.setdefault(name, []).append(value)

    def has(self, name: str) -> bool:
        return name in self._index

    def single(self, name: str) -> str | None:
        if self._repeated is not None and len(self._repeated.get(name, ())) > 1:
            _refuse_repeated(name)
        return self._index.get(name)

    def canonical(self, names: tuple[str, ...]) -> str:
        lines = []
        for name in names:
            value = self._index.get(name)
            if value is None:
                _refuse_missing(name)
            if self._repeated is not None:
                value = ",".join(" ".join(each.split()) for each in self._repeated[name])
            else:
                value = " ".join(value.split())
            lines.append(f"{name}:{value}\n")
        return "".join(lines)


class _WireHeaders:
    """Headers as bytes, indexed by their byte names. Names asked for are encoded as latin-1,
    which cannot fail: they are ASCII constants or were read (as latin-1) from Authorization."""

    __slots__ = ("_index", "_repeated")

    def __init__(self, headers: Sequence[tuple[bytes, bytes]]) -> None:
        self._index = dict(headers)
        self._repeated: dict[bytes, list[bytes]] | None = None
        if len(self._index) != len(headers):
            self._repeated = {}
            for name, value in headers:
                self._repeated.setdefault(name, []).append(value)

    def has(self, name: str) -> bool:
        return name.encode("latin-1") in self._index

    def single(self, name: str) -> str | None:
        key = name.encode("latin-1")
        if self._repeated is not None and len(self._repeated.get(key, ())) > 1:
            _refuse_repeated(name)
        value = self._index.get(key)
        return None if value is None else value.decode("latin-1")

    def canonical(self, names: tuple[str, ...]) -> str:
        lines = []
        for name in names:
            key = name.encode("latin-1")
            value = self._index.get(key)
            if value is None:
                _refuse_missing(name)
            if self._repeated is not None:
                text = ",".join(
                    " ".join(each.decode("latin-1").split()) for each in self._repeated[key]
                )
            else:
                text = " ".join(value.decode("latin-1").split())
            lines.append(f"{name}:{text}\n")
        return "".join(lines)


class _Authorization:
    __slots__ = (
        "access_key_id",
        "amz_date",
        "region",
        "scope_date",
        "service",
        "signature",
        "signed_headers",
        "signed_names",
        "terminator",
    )

    def __init__(
        self,
        access_key_id: str,
        scope_date: str,
        region: str,
        service: str,
        terminator: str,
        signed_headers: str,
        signature: str,
        amz_date: str,
    ) -> None:
        self.access_key_id = access_key_id
        self.scope_date = scope_date
        self.region = region
        self.service = service
        self.terminator = terminator
        self.signed_headers = signed_headers  # as sent: what the canonical request repeats
        self.signed_names = tuple(signed_headers.split(";"))
        self.signature = signature
        self.amz_date = amz_date


def _read_authorization(query_string: str, headers: _Headers) -> _Authorization:
    authorization = headers.single("authorization")
    presigned = bool(query_string) and not _PRESIGN_PARAMS.isdisjoint(_query_names(query_string))
    if authorization is None:
        if presigned:
            raise IncompleteSignatureException(
                "Query-string (presigned) authentication is not supported; "
                "sign the request with an Authorization header."
            )
        raise MissingAuthenticationTokenException("Request is missing Authentication Token")
    if presigned:
        raise InvalidSignatureException(
            "Found both 'X-Amz-Algorithm' as a query-string param "
            "and 'Authorization' as HTTP header."
        )
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != _ALGORITHM:
        # Name it (as AWS does) only when it looks like a name: a bare token may be a secret.
        if _ALGORITHM_NAME_RE.fullmatch(algorithm):
            raise IncompleteSignatureException(f"Unsupported AWS 'algorithm': '{algorithm}'.")
        raise IncompleteSignatureException(
            f"Unsupported AWS 'algorithm' (only {_ALGORITHM} is supported)."
        )
    params = _parse_parameters(rest)
    amz_date = headers.single("x-amz-date")
    credential = params.get("Credential")
    signature = params.get("Signature")
    signed_headers = params.get("SignedHeaders")
    if not (credential and signature and signed_headers) or amz_date is None:
        _refuse_incomplete(params, amz_date, headers)
    scope = credential.rstrip("/").split("/")  # AWS ignores trailing slashes here
    if len(scope) != 5 or not all(scope):
        raise IncompleteSignatureException(
            "Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got '{credential}'"
        )
    if _SIGNATURE_RE.fullmatch(signature) is None:
        raise IncompleteSignatureException("Signature must be 64 hexadecimal characters.")
    key_id, date, region, service, terminator = scope
    auth = _Authorization(
        key_id, date, region, service, terminator, signed_headers, signature, amz_date
    )
    if "" in auth.signed_names:
        raise IncompleteSignatureException("SignedHeaders contains an empty header name.")
    return auth


def _refuse_incomplete(params: dict[str, str], amz_date: str | None, headers: _Headers) -> NoReturn:
    # AWS reports every missing piece at once. Unlike AWS we do not append the header itself
    # ("Authorization=..."), so caller credentials never reach logs through a message.
    problems = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not params.get(name)
    ]
    if amz_date is None and headers.single("date") is None:
        problems.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    elif amz_date is None:
        # botocore signs with `Date` only when a caller pre-sets that header, which no KMS
        # client does; accepting it would add a second date format to parse and check.
        problems.append("QKMS requires the 'X-Amz-Date' header; 'Date' is not accepted.")
    raise IncompleteSignatureException(" ".join(problems))


def _canonical_request(
    method: str,
    path: str,
    query_string: str,
    body: bytes,
    headers: _Headers,
    auth: _Authorization,
    canonical_headers: str,
) -> str:
    body_hash = hashlib.sha256(body).hexdigest()
    signed_names = auth.signed_names
    if "x-amz-content-sha256" in signed_names:
        # A declared payload hash must be the real one; UNSIGNED-PAYLOAD fails here too,
        # because KMS bodies are always signed.
        declared = headers.single("x-amz-content-sha256")
        # Compared as bytes: compare_digest refuses non-ASCII text with a TypeError (a 500).
        if declared is None or not hmac.compare_digest(_utf8(declared), body_hash.encode()):
            raise InvalidSignatureException(
                "The x-amz-content-sha256 header does not match the SHA-256 of the body."
            )
    return "\n".join(
        (
            method,
            _canonical_uri(path),
            _canonical_query(query_string) if query_string else "",
            canonical_headers,
            auth.signed_headers,
            body_hash,
        )
    )


def _utf8(text: str) -> bytes:
    # surrogatepass: odd input gives a mismatching signature, never an encoding crash (a 500).
    return text.encode("utf-8", "surrogatepass")


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, _utf8(message), hashlib.sha256).digest()


def _parse_parameters(rest: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in rest.split(","):
        part = part.strip()
        if not part:
            continue
        name, equals, value = part.partition("=")
        if not equals:
            # AWS quotes the pair and the whole header here; we quote neither, as the stray
            # text may be a credential pasted in the wrong place.
            raise IncompleteSignatureException(
                "Authorization header has a parameter that is not a valid key=value pair "
                "(missing equal-sign)."
            )
        if name in params:
            raise IncompleteSignatureException(
                f"Authorization header has more than one '{name}' parameter."
            )
        params[name] = value.strip()
    return params


@functools.lru_cache(maxsize=256)
def _parse_amz_date(value: str) -> float:
    # Cached: every client signing within the same second sends the same X-Amz-Date. Refusals
    # raise, so they are never cached and keep their message.
    try:
        match = _AMZ_DATE_RE.fullmatch(value)
        if match is None:
            raise ValueError(value)
        # The fields straight from the match: `strptime` costs several times more, and the
        # datetime constructor refuses an impossible date (month 13, second 60) just as it does.
        year, month, day, hour, minute, second = map(int, match.groups())
        parsed = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise IncompleteSignatureException(
            f"Date must be in ISO-8601 'basic format'. Got '{value}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601"
        ) from None
    return parsed.timestamp()


def _format_amz_date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime(_AMZ_DATE_FORMAT)


def _query_names(query_string: str) -> set[str]:
    return {
        unquote_to_bytes(_utf8(pair.partition("=")[0])).decode("utf-8", "replace")
        for pair in query_string.split("&")
        if pair
    }


def _remove_dot_segments(path: str) -> str:
    # botocore.utils.remove_dot_segments: RFC 3986 §5.2.4, plus AWS's merging of empty segments.
    output: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if output:
                output.pop()
        elif segment and segment != ".":
            output.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and output else ""
    return first + "/".join(output) + last


def _canonical_uri(path: str) -> str:
    # Non-S3 services encode the already-encoded wire path once more ("double encoding"),
    # exactly as botocore's SigV4Auth._normalize_url_path does over the URL it sends.
    if not path or path == "/":  # every KMS call: the one path needs neither step below
        return "/"
    return quote(_utf8(_remove_dot_segments(path)), safe="/~")


def _canonical_query(query_string: str) -> str:
    # Decode then re-encode with the RFC 3986 unreserved set, so equivalent encodings of one
    # query ("%7E" vs "~") sign alike. '+' is a literal plus here, not a space (SigV4 rule).
    # Empty segments ("a=1&&b=2") are dropped; blank values ("a", "a=") are kept as "a=".
    pairs = []
    for pair in query_string.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        pairs.append((_encode_query_part(name), _encode_query_part(value)))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def _encode_query_part(text: str) -> str:
    return quote(unquote_to_bytes(_utf8(text)), safe="-_.~")

"""Verify AWS Signature Version 4 (Authorization header form) on an incoming request (DESIGN §5)."""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
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
        self._cache: OrderedDict[tuple[str, bytes, str, str], bytes] = OrderedDict()
        self._cache_lock = threading.Lock()

    def verify(self, request: SignedRequest) -> VerifiedCaller:
        auth = _read_authorization(request)
        signed_at = _parse_amz_date(auth.amz_date)
        # QKMS issues no session credentials, so any token is one we did not issue.
        if any(name == "x-amz-security-token" for name, _ in request.headers):
            raise UnrecognizedClientException(_UNRECOGNIZED_CLIENT)
        self._check_clock(auth.amz_date, signed_at)
        self._check_scope(auth, request)
        secret = self._lookup_secret(auth.access_key_id)
        if secret is None:
            raise UnrecognizedClientException(_UNRECOGNIZED_CLIENT)
        canonical_request = _canonical_request(request, auth.signed_names)
        string_to_sign = "\n".join(
            (
                _ALGORITHM,
                auth.amz_date,
                f"{auth.scope_date}/{auth.region}/{auth.service}/{_TERMINATOR}",
                hashlib.sha256(_utf8(canonical_request)).hexdigest(),
            )
        )
        signing_key = self._signing_key(auth.access_key_id, secret, auth.scope_date, auth.region)
        expected = hmac.new(signing_key, _utf8(string_to_sign), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, auth.signature.lower()):
            raise InvalidSignatureException(_MISMATCH)
        return VerifiedCaller(auth.access_key_id, auth.region, signed_at)

    def _check_scope(self, auth: _Authorization, request: SignedRequest) -> None:
        # AWS answers these with InvalidSignature, not IncompleteSignature, and reports all scope
        # mismatches in one message, a scope date that differs from X-Amz-Date included (as
        # recorded from AWS's JSON services). Any region is accepted (DESIGN §5). AWS words
        # every required-but-unsigned header alike ("'Content-Type' must be a 'SignedHeader'
        # in the AWS Authorization." is recorded for services that require Content-Type).
        for name in self._required:
            if name not in auth.signed_names:
                raise InvalidSignatureException(
                    f"'{_DISPLAY_NAMES.get(name, name)}' must be a 'SignedHeader' "
                    "in the AWS Authorization."
                )
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
        if problems:
            raise InvalidSignatureException(" ".join(problems))
        present = {name for name, _ in request.headers}
        for name in auth.signed_names:
            if name not in present:
                raise IncompleteSignatureException(
                    f"Signed header '{name}' is not present in the request."
                )

    def _check_clock(self, amz_date: str, signed_at: float) -> None:
        now = self._clock()
        minutes = f"{self._max_skew / 60:g} min."
        if signed_at < now - self._max_skew:
            raise InvalidSignatureException(
                f"Signature expired: {amz_date} is now earlier than "
                f"{_format_amz_date(now - self._max_skew)} ({_format_amz_date(now)} - {minutes})"
            )
        if signed_at > now + self._max_skew:
            raise InvalidSignatureException(
                f"Signature not yet current: {amz_date} is still later than "
                f"{_format_amz_date(now + self._max_skew)} ({_format_amz_date(now)} + {minutes})"
            )

    def _signing_key(self, access_key_id: str, secret: str, date: str, region: str) -> bytes:
        # Keyed by a digest of the secret, so a rotated secret misses the cache instead of
        # letting the old derived key keep verifying.
        cache_key = (access_key_id, hashlib.sha256(_utf8(secret)).digest(), date, region)
        with self._cache_lock:
            cached = self._cache.get(cache_key)
            if cached is not None:
                self._cache.move_to_end(cache_key)
                return cached
        key = _hmac(_utf8("AWS4" + secret), date)
        for part in (region, self._service, _TERMINATOR):
            key = _hmac(key, part)
        with self._cache_lock:
            self._cache[cache_key] = key
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return key


@dataclass(frozen=True, slots=True)
class _Authorization:
    access_key_id: str
    scope_date: str
    region: str
    service: str
    terminator: str
    signed_names: tuple[str, ...]
    signature: str
    amz_date: str


def _read_authorization(request: SignedRequest) -> _Authorization:
    authorization = _single_header(request.headers, "authorization")
    presigned = not _PRESIGN_PARAMS.isdisjoint(_query_names(request.query_string))
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
    amz_date = _single_header(request.headers, "x-amz-date")
    # AWS reports every missing piece at once. Unlike AWS we do not append the header itself
    # ("Authorization=..."), so caller credentials never reach logs through a message.
    problems = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not params.get(name)
    ]
    if amz_date is None and _single_header(request.headers, "date") is None:
        problems.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    elif amz_date is None:
        # botocore signs with `Date` only when a caller pre-sets that header, which no KMS
        # client does; accepting it would add a second date format to parse and check.
        problems.append("QKMS requires the 'X-Amz-Date' header; 'Date' is not accepted.")
    if problems or amz_date is None:  # a missing date is always among `problems`
        raise IncompleteSignatureException(" ".join(problems))
    credential = params["Credential"]
    scope = credential.rstrip("/").split("/")  # AWS ignores trailing slashes here
    if len(scope) != 5 or not all(scope):
        raise IncompleteSignatureException(
            "Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got '{credential}'"
        )
    if _SIGNATURE_RE.fullmatch(params["Signature"]) is None:
        raise IncompleteSignatureException("Signature must be 64 hexadecimal characters.")
    signed_names = tuple(params["SignedHeaders"].split(";"))
    if not all(signed_names):
        raise IncompleteSignatureException("SignedHeaders contains an empty header name.")
    key_id, date, region, service, terminator = scope
    signature = params["Signature"]
    return _Authorization(
        key_id, date, region, service, terminator, signed_names, signature, amz_date
    )


def _canonical_request(request: SignedRequest, signed_names: tuple[str, ...]) -> str:
    body_hash = hashlib.sha256(request.body).hexdigest()
    if "x-amz-content-sha256" in signed_names:
        # A declared payload hash must be the real one; UNSIGNED-PAYLOAD fails here too,
        # because KMS bodies are always signed.
        declared = _single_header(request.headers, "x-amz-content-sha256")
        if declared is None or not hmac.compare_digest(declared, body_hash):
            raise InvalidSignatureException(
                "The x-amz-content-sha256 header does not match the SHA-256 of the body."
            )
    return "\n".join(
        (
            request.method,
            _canonical_uri(request.path),
            _canonical_query(request.query_string),
            _canonical_headers(request.headers, signed_names),
            ";".join(signed_names),
            body_hash,
        )
    )


def _utf8(text: str) -> bytes:
    # surrogatepass: odd input gives a mismatching signature, never an encoding crash (a 500).
    return text.encode("utf-8", "surrogatepass")


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, _utf8(message), hashlib.sha256).digest()


def _single_header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    values = [value for header, value in headers if header == name]
    if len(values) > 1:
        # Two Authorization or X-Amz-Date headers are ambiguous; refuse rather than pick one.
        raise IncompleteSignatureException(f"The '{name}' header appears more than once.")
    return values[0] if values else None


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


def _parse_amz_date(value: str) -> float:
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


def _canonical_headers(headers: Sequence[tuple[str, str]], signed_names: tuple[str, ...]) -> str:
    # Values are trimmed and inner whitespace runs collapsed; repeats join with ',' in the
    # order received (botocore's _header_value and canonical_headers).
    lines = []
    for name in signed_names:
        values = [" ".join(value.split()) for header, value in headers if header == name]
        lines.append(f"{name}:{','.join(values)}\n")
    return "".join(lines)

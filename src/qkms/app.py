"""Composition root: builds store, root key, caches and clock once, and hands them down (STYLE §1)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from qkms import metrics
from qkms.admin.accounts import ADMIN_POLICY, ADMIN_POLICY_NAME, put_user_policy
from qkms.audit import AuditFileWriter, AuditTrail, AuditWriteError
from qkms.config import DEFAULT_ACCOUNT_ID, ConfigError, Settings
from qkms.crypto import AttestationTrust, CryptoError, RootKey, unwrap
from qkms.domain.arns import Arns
from qkms.domain.policy import PolicyDocument
from qkms.malloc_arenas import limit_malloc_arenas
from qkms.operations.runtime.background import ChangeFollower
from qkms.operations.runtime.cache import FreshCache
from qkms.operations.runtime.context import CachedKey, KeyGrants, Services
from qkms.operations.runtime.credentials import (
    Credential,
    CredentialResolver,
    NewAccessKey,
    create_access_key,
)
from qkms.operations.runtime.dispatch import InlineGuardedStore
from qkms.operations.runtime.parsed_keys import ParsedKeyBudget
from qkms.operations.runtime.registry import OPERATIONS
from qkms.preflight import StartupError, prepare_data_dir
from qkms.storage.base import DuplicateError, KeyStore, StoreError
from qkms.storage.sqlite import SqliteKeyStore
from qkms.throttling import RateLimiter
from qkms.wire.asgi import QkmsApp, WireSettings
from qkms.wire.http_protocol import EdgeLimits, QkmsHttpProtocol

__all__ = [
    "ADMIN_USER",
    "Bootstrap",
    "StartupError",
    "bootstrap",
    "build_app",
    "create_app",
    "open_services",
    "open_store",
]

ADMIN_USER = "admin"
_ROOT_KEY_FILE = "root.key"
_CREDENTIALS_FILE = "credentials"
_THROTTLE_FILE = "throttle.buckets"  # the node's shared token buckets (qkms.throttling.shared)
_META_ROOT_KCV = "root_key_check_value"
_META_BOOTSTRAPPED = "admin_bootstrapped"
_log = logging.getLogger("qkms")


@dataclass(frozen=True, slots=True)
class Bootstrap:
    root_key: RootKey
    credentials_file: Path
    new_admin_key: NewAccessKey | None  # set only when this start created it


def open_store(settings: Settings) -> KeyStore:
    """PostgreSQL when --database-url is given, else SQLite in the (private) data directory.

    The data directory is needed either way: it holds the credentials file and, unless the
    root key comes from QKMS_ROOT_KEY or --root-key-file, `root.key` (with PostgreSQL every
    node must be given the same root key). With PostgreSQL it is made only after the store
    answered (`_open_migrated`), so a refused login leaves nothing behind.
    """
    if settings.database_url is not None:
        from qkms.storage.postgres import PostgresKeyStore

        return PostgresKeyStore(settings.database_url, deadline_seconds=settings.store_timeout)
    prepare_data_dir(settings.data_dir)
    return SqliteKeyStore(settings.sqlite_path, deadline_seconds=settings.store_timeout)


def _open_migrated(settings: Settings) -> KeyStore:
    """The store, migrated, and the private data directory beside it; StartupError if not."""
    try:
        store = open_store(settings)
    except StoreError as exc:
        raise StartupError(f"the store is not usable: {exc}") from None
    with _closed_on_failure(store):
        store.migrate()
        prepare_data_dir(settings.data_dir)
    return store


@contextmanager
def _closed_on_failure(store: KeyStore) -> Iterator[None]:
    """Close `store` if the block fails, a StoreError reported as the StartupError it causes."""
    try:
        yield
    except StoreError as exc:
        store.close()
        raise StartupError(f"the store is not usable: {exc}") from None
    except BaseException:
        store.close()
        raise


def _write_private_file(path: Path, content: bytes) -> None:
    """Write `content` to `path` with mode 0600 from the first byte, atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _load_root_key(settings: Settings, environ: Mapping[str, str], store: KeyStore) -> RootKey:
    """The root key in force, able to unwrap under the previous root key during a rotation."""
    primary = _load_primary_root_key(settings, environ, store)
    previous = _load_previous_root_key(settings, environ)
    return primary.with_previous(previous) if previous is not None else primary


def _load_previous_root_key(settings: Settings, environ: Mapping[str, str]) -> RootKey | None:
    try:
        if text := environ.get("QKMS_PREVIOUS_ROOT_KEY"):
            return RootKey.from_base64(text.strip())
        if settings.previous_root_key_file is not None:
            return RootKey.from_base64(settings.previous_root_key_file.read_text().strip())
    except (CryptoError, OSError) as exc:
        raise StartupError(f"cannot read the previous root key: {exc}") from None
    return None


def _load_primary_root_key(
    settings: Settings, environ: Mapping[str, str], store: KeyStore
) -> RootKey:
    try:
        if text := environ.get("QKMS_ROOT_KEY"):
            return RootKey.from_base64(text.strip())
        if settings.root_key_file is not None:
            return RootKey.from_base64(settings.root_key_file.read_text().strip())
        path = settings.data_dir / _ROOT_KEY_FILE
        if path.exists():
            return RootKey.from_base64(path.read_text().strip())
    except (CryptoError, OSError) as exc:
        raise StartupError(f"cannot read the root key: {exc}") from None
    if store.get_meta(_META_ROOT_KCV) is not None:
        raise StartupError(
            f"{path} is missing but the store holds keys wrapped under a root key. "
            "Restore the root key file, or give it with QKMS_ROOT_KEY / --root-key-file."
        )
    root_key = RootKey.generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return RootKey.from_base64(path.read_text().strip())
    with os.fdopen(fd, "w") as handle:
        handle.write(root_key.to_base64() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    _log.info("created root wrapping key %s (check value %s)", path, root_key.key_check_value)
    return root_key


def _check_root_key(store: KeyStore, root_key: RootKey) -> None:
    stored = store.get_meta(_META_ROOT_KCV)
    if stored is not None and stored in root_key.previous_check_values:
        return  # mid-rotation: this node already has the new key and can read the old one
    if stored is not None and stored != root_key.key_check_value:
        raise StartupError(
            f"the root key given (check value {root_key.key_check_value}) is not the root key "
            f"this store was created with (check value {stored}). Start with the original root "
            "key (QKMS_ROOT_KEY or --root-key-file); nothing was written."
        )
    # Several nodes may start at once on a fresh shared store: only one root key may win.
    in_force = store.put_meta_if_absent(_META_ROOT_KCV, root_key.key_check_value)
    if in_force != root_key.key_check_value:
        raise StartupError(
            f"the root key given (check value {root_key.key_check_value}) is not the root key "
            f"another node just set up this store with (check value {in_force}). Give every "
            "node the same root key (QKMS_ROOT_KEY or --root-key-file)."
        )


def _attestation_trust(settings: Settings) -> AttestationTrust:
    """The roots attestation documents must chain to (default: the AWS Nitro Enclaves root)."""
    max_age = timedelta(seconds=settings.attestation_max_age)
    files = settings.attestation_trust_root_files
    if not files:
        return AttestationTrust.from_pem(max_age=max_age)
    pems: list[bytes] = []
    for path in files:
        try:
            pems.append(path.read_bytes())
        except OSError as exc:
            raise StartupError(
                f"cannot read the attestation trust root {path}: {exc.strerror}"
            ) from None
    try:
        return AttestationTrust.from_pem(pems, max_age=max_age)
    except ValueError:
        raise StartupError(
            "--attestation-trust-root: not a PEM certificate file: "
            + ", ".join(str(path) for path in files)
        ) from None


def _services(
    settings: Settings, store: KeyStore, root_key: RootKey, clock: Callable[[], float]
) -> Services:
    return Services(
        attestation=_attestation_trust(settings),
        store=store,
        root_key=root_key,
        arns=Arns(
            partition=settings.partition, arn_format=settings.arn_format, region=settings.region
        ),
        clock=clock,
        key_cache=FreshCache[str, CachedKey](settings.key_cache_size),
        parsed_keys=ParsedKeyBudget(settings.parsed_key_cache_size),
        identity_policies=FreshCache[str, tuple[PolicyDocument, ...]](10000),
        grants=FreshCache[str, KeyGrants](settings.key_cache_size),
        aliases=FreshCache[str, str](settings.key_cache_size),
    )


def _credentials_ini(key: NewAccessKey) -> bytes:
    return (
        "[qkms]\n"
        f"aws_access_key_id = {key.access_key_id}\n"
        f"aws_secret_access_key = {key.secret_access_key}\n"
    ).encode()


def _admin_key_matches(services: Services, access_key_id: str, secret: str) -> bool:
    existing = services.store.get_access_key(access_key_id)
    if existing is None:
        return False
    try:
        stored = unwrap(
            services.root_key, existing.wrapped_secret, f"qkms-access-key:{access_key_id}".encode()
        )
    except CryptoError:
        stored = b""
    if stored != secret.encode():
        raise StartupError(
            f"access key {access_key_id} already exists with another secret; "
            "QKMS_ADMIN_SECRET_ACCESS_KEY does not match it."
        )
    return True


def _claim_bootstrap(services: Services, now: float) -> bool:
    """Several nodes may start at once on a new shared store: exactly one creates the admin key.

    A claim older than a minute with no admin key behind it was left by a start that died
    half-way; it is taken over so the store never ends up without an admin.
    """
    store = services.store
    claim = store.put_meta_if_absent(_META_BOOTSTRAPPED, repr(now))
    if claim == repr(now):
        return True
    if store.list_access_keys(DEFAULT_ACCOUNT_ID, ADMIN_USER):
        return False
    try:
        claimed_at = float(claim)
    except ValueError:
        claimed_at = 0.0
    return now - claimed_at > 60.0


def _bootstrap_admin(
    services: Services, environ: Mapping[str, str], credentials_file: Path
) -> NewAccessKey | None:
    store, now = services.store, services.clock()
    given_id = environ.get("QKMS_ADMIN_ACCESS_KEY_ID") or None
    given_secret = environ.get("QKMS_ADMIN_SECRET_ACCESS_KEY") or None
    if (given_id is None) != (given_secret is None):
        raise StartupError("QKMS_ADMIN_ACCESS_KEY_ID and QKMS_ADMIN_SECRET_ACCESS_KEY go together.")
    if given_id is not None and given_secret is not None:
        if _admin_key_matches(services, given_id, given_secret):
            return None
        store.put_meta_if_absent(_META_BOOTSTRAPPED, repr(now))
    elif not _claim_bootstrap(services, now):
        return None
    store.ensure_account(DEFAULT_ACCOUNT_ID, now)
    store.ensure_user(DEFAULT_ACCOUNT_ID, ADMIN_USER, now)
    # The bootstrap admin may do everything in its account (DESIGN §5), like an account root.
    put_user_policy(services, DEFAULT_ACCOUNT_ID, ADMIN_USER, ADMIN_POLICY_NAME, ADMIN_POLICY)
    try:
        key = create_access_key(services, DEFAULT_ACCOUNT_ID, ADMIN_USER, given_id, given_secret)
    except DuplicateError:
        # Another node, started at the same moment with the same QKMS_ADMIN_*, got there first.
        if given_id is not None and given_secret is not None:
            _admin_key_matches(services, given_id, given_secret)
        return None
    _write_private_file(credentials_file, _credentials_ini(key))
    return key


def bootstrap(settings: Settings, environ: Mapping[str, str] = os.environ) -> Bootstrap:
    """First-start work, done once by `qkms serve` before any worker starts (DESIGN §6)."""
    store, root_key = _open_with_root_key(settings, environ)
    try:
        services = _services(settings, store, root_key, time.time)
        credentials_file = settings.data_dir / _CREDENTIALS_FILE
        new_key = _bootstrap_admin(services, environ, credentials_file)
        _audit_writer(settings).check()  # every call needs its audit event
    except StoreError as exc:
        raise StartupError(f"the store is not usable: {exc}") from None
    except AuditWriteError as exc:
        raise StartupError(str(exc)) from None
    finally:
        store.close()
    return Bootstrap(root_key, credentials_file, new_key)


def open_services(settings: Settings, environ: Mapping[str, str] = os.environ) -> Services:
    """Services over the configured store, for `qkms admin`: same root key rules as the server."""
    store, root_key = _open_with_root_key(settings, environ)
    return _services(settings, store, root_key, time.time)


def _open_with_root_key(settings: Settings, environ: Mapping[str, str]) -> tuple[KeyStore, RootKey]:
    """The migrated store and its checked root key; the store is closed if either fails."""
    settings.validate()
    store = _open_migrated(settings)
    with _closed_on_failure(store):
        root_key = _load_root_key(settings, environ, store)
        _check_root_key(store, root_key)
    return store, root_key


def _audit_writer(settings: Settings) -> AuditFileWriter:
    return AuditFileWriter(
        settings.audit_log_path, settings.audit_max_bytes, settings.audit_backups
    )


def build_app(
    settings: Settings,
    environ: Mapping[str, str] = os.environ,
    clock: Callable[[], float] = time.time,
) -> QkmsApp:
    """One worker's application. Expects `bootstrap` to have run for this data dir."""
    settings.validate()
    limit_malloc_arenas(environ)  # before the worker's threads allocate (qkms.malloc_arenas)
    store = open_store(settings)
    store.migrate()
    root_key = _load_root_key(settings, environ, store)
    _check_root_key(store, root_key)
    # Requests reach the store only through the guard, so hot-path operations tried on the
    # event loop can never block it on a database call (qkms.operations.runtime.dispatch).
    guarded = InlineGuardedStore.wrap(metrics.measured_store(store))
    services = _services(settings, guarded, root_key, clock)
    credential_cache = FreshCache[str, Credential](10000)
    audit = AuditTrail(
        metrics.measured_audit_writer(
            settings.audit_log_path, settings.audit_max_bytes, settings.audit_backups
        ),
        region=settings.region,
        key_arn=services.arns.key_arn,
        # With PostgreSQL the database is the cluster-wide place to query the trail; with the
        # embedded SQLite store the file alone is the trail (a copy would double the fsyncs).
        mirror=store if settings.database_url is not None else None,
    )
    throttle = settings.throttle_config
    return QkmsApp(
        services=services,
        credentials=CredentialResolver(services, credential_cache),
        follower=ChangeFollower(services, credential_cache),
        settings=WireSettings(
            store_deadline_seconds=settings.store_timeout,
            metrics_endpoint=settings.metrics_port == 0,  # else served on --metrics-port
        ),
        audit=audit,
        limiter=RateLimiter.open(throttle, settings.data_dir / _THROTTLE_FILE)
        if throttle.enabled
        else None,
        metrics=_sampled(services, credential_cache, store),
    )


def _sampled(
    services: Services, credential_cache: FreshCache[str, Credential], store: KeyStore
) -> metrics.Sampled | None:
    """What the background loop samples for /metrics, if this worker records metrics."""
    if not metrics.is_installed():
        return None
    caches = {
        "keys": services.key_cache,
        "grants": services.grants,
        "aliases": services.aliases,
        "identity_policies": services.identity_policies,
        "credentials": credential_cache,
    }
    return metrics.Sampled(caches, store.key_counts)


def create_app() -> QkmsApp:
    """Uvicorn's factory in each worker process: settings come from the `QKMS_*` environment."""
    from qkms.logs import configure_logging

    os.umask(0o077)  # also when uvicorn is run on this factory directly (see qkms.cli.main)
    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as exc:
        raise StartupError(str(exc)) from None
    configure_logging(settings.log_level, settings.log_format, settings.access_log)
    if settings.metrics:
        metrics.install(OPERATIONS)  # records only if `qkms serve` prepared its directory
    # This worker's connection limits, in force before uvicorn accepts its first connection.
    QkmsHttpProtocol.configure(
        EdgeLimits(
            request_timeout_seconds=settings.request_timeout,
            keepalive_timeout_seconds=settings.keepalive_timeout,
            max_connections=settings.max_connections,
        )
    )
    return build_app(settings)

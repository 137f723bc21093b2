"""Resolving an access key id to its secret and its Caller, through the credential cache."""

from __future__ import annotations

import pytest

from qkms.operations.runtime.cache import FreshCache
from qkms.operations.runtime.context import Services
from qkms.operations.runtime.credentials import (
    Credential,
    CredentialResolver,
    NewAccessKey,
    create_access_key,
)
from tests.unit.support import ACCOUNT


@pytest.fixture
def cache() -> FreshCache[str, Credential]:
    fresh = FreshCache[str, Credential](10)
    fresh.confirm_fresh()
    return fresh


@pytest.fixture
def resolver(services: Services, cache: FreshCache[str, Credential]) -> CredentialResolver:
    return CredentialResolver(services, cache)


@pytest.fixture
def key(services: Services) -> NewAccessKey:
    return create_access_key(services, ACCOUNT, "admin")


def test_caller_names_the_keys_user_and_the_client(
    services: Services, resolver: CredentialResolver, key: NewAccessKey
) -> None:
    caller = resolver.caller(key.access_key_id, "10.0.0.1", "aws-cli/2", secure_transport=True)
    assert caller is not None
    assert (caller.account_id, caller.user_name, caller.access_key_id) == (
        ACCOUNT,
        "admin",
        key.access_key_id,
    )
    assert caller.principal_arn == services.arns.user_arn(ACCOUNT, "admin")
    assert (caller.source_ip, caller.user_agent, caller.secure_transport) == (
        "10.0.0.1",
        "aws-cli/2",
        True,
    )
    assert resolver.secret_for(key.access_key_id) == key.secret_access_key


def test_a_clients_next_call_reuses_its_caller_and_other_clients_get_their_own(
    resolver: CredentialResolver, key: NewAccessKey
) -> None:
    first = resolver.caller(key.access_key_id, "10.0.0.1", "ua", secure_transport=False)
    assert resolver.caller(key.access_key_id, "10.0.0.1", "ua", secure_transport=False) is first
    others = [
        resolver.caller(key.access_key_id, "10.0.0.2", "ua", secure_transport=False),
        resolver.caller(key.access_key_id, "10.0.0.1", "other", secure_transport=False),
        resolver.caller(key.access_key_id, "10.0.0.1", "ua", secure_transport=True),
    ]
    facts = {(c.source_ip, c.user_agent, c.secure_transport) for c in others if c is not None}
    assert facts == {
        ("10.0.0.2", "ua", False),
        ("10.0.0.1", "other", False),
        ("10.0.0.1", "ua", True),
    }


def test_many_clients_each_get_their_own_facts(
    resolver: CredentialResolver, key: NewAccessKey
) -> None:
    for round_ in range(2):
        for index in range(200):  # past the per-credential bound: evicted ones are rebuilt
            caller = resolver.caller(key.access_key_id, f"10.0.{index}.1", "ua", False)
            assert caller is not None
            assert caller.source_ip == f"10.0.{index}.1", round_
    credential = resolver.credential(key.access_key_id)
    assert credential is not None
    assert 0 < len(credential.callers) <= 16


def test_a_long_user_agent_is_served_but_not_remembered(
    resolver: CredentialResolver, key: NewAccessKey
) -> None:
    long_agent = "x" * 513
    for _ in range(2):
        caller = resolver.caller(key.access_key_id, "10.0.0.1", long_agent, False)
        assert caller is not None
        assert caller.user_agent == long_agent
    credential = resolver.credential(key.access_key_id)
    assert credential is not None
    assert credential.callers == {}


def test_a_changed_access_key_is_resolved_afresh(
    services: Services,
    resolver: CredentialResolver,
    cache: FreshCache[str, Credential],
    key: NewAccessKey,
) -> None:
    before = resolver.caller(key.access_key_id, "10.0.0.1", "ua", False)
    assert before is not None
    services.store.set_access_key_status(key.access_key_id, "Inactive")
    cache.evict(key.access_key_id)  # as the change feed does
    assert resolver.caller(key.access_key_id, "10.0.0.1", "ua", False) is None
    assert resolver.secret_for(key.access_key_id) is None
    services.store.set_access_key_status(key.access_key_id, "Active")
    cache.evict(key.access_key_id)
    after = resolver.caller(key.access_key_id, "10.0.0.1", "ua", False)
    assert after == before
    assert after is not before  # built for the reloaded key, not kept from the old one


def test_credentials_compare_and_print_without_their_callers(
    resolver: CredentialResolver, key: NewAccessKey
) -> None:
    credential = resolver.credential(key.access_key_id)
    assert credential is not None
    resolver.caller(key.access_key_id, "10.0.0.1", "ua", False)
    assert credential == Credential(ACCOUNT, "admin", key.secret_access_key)
    assert "callers" not in repr(credential)
    assert key.secret_access_key not in repr(credential)

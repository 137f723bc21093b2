"""DESIGN §7 for aliases: an alias another worker changed reaches this worker's cache through
the change feed, and only through it.

Two services over one store, each with its own caches, play two workers. Worker B's caches
stay trusted for an hour, so nothing but B's own poll of the feed can make it forget what it
resolved: without the poll B must still answer with the old target (proving the cache is in
play), after one poll it must answer with the new one. Unlike an end-to-end run against two
server processes, this cannot pass by asking the worker that made the change.
"""

from __future__ import annotations

import pytest

from qkms.domain.errors import NotFoundException
from qkms.operations.aliases.create_alias import create_alias
from qkms.operations.aliases.delete_alias import delete_alias
from qkms.operations.aliases.update_alias import update_alias
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.describe_key import describe_key
from qkms.operations.runtime.background import ChangeFollower
from qkms.operations.runtime.context import Services
from qkms.operations.shapes import (
    CreateAliasRequest,
    CreateKeyRequest,
    DeleteAliasRequest,
    DescribeKeyRequest,
    UpdateAliasRequest,
)
from tests.unit.support import context

ALIAS = "alias/propagated"


def new_key(services: Services) -> str:
    request = CreateKeyRequest(key_spec="ECC_NIST_P256", key_usage="KEY_AGREEMENT")
    return create_key(context(services), request).key_metadata.key_id


def resolved(services: Services, ref: str) -> str:
    """The key id `ref` names on this worker (NotFoundException if it names nothing)."""
    return describe_key(context(services), DescribeKeyRequest(key_id=ref)).key_metadata.key_id


def test_update_alias_on_one_worker_reaches_the_other_after_one_poll_and_not_before(
    workers: tuple[Services, Services, ChangeFollower],
) -> None:
    worker_a, worker_b, follower_b = workers
    first, second = new_key(worker_a), new_key(worker_a)
    create_alias(context(worker_a), CreateAliasRequest(alias_name=ALIAS, target_key_id=first))
    assert follower_b.poll() >= 1
    assert resolved(worker_b, ALIAS) == first  # B now caches the alias → first

    update_alias(context(worker_a), UpdateAliasRequest(alias_name=ALIAS, target_key_id=second))
    assert resolved(worker_a, ALIAS) == second  # effective on A before the call returned
    assert resolved(worker_b, ALIAS) == first  # B has not polled: its cache still answers
    assert follower_b.poll() == 1  # exactly the alias's change
    assert resolved(worker_b, ALIAS) == second


def test_delete_alias_on_one_worker_reaches_the_other_after_one_poll_and_not_before(
    workers: tuple[Services, Services, ChangeFollower],
) -> None:
    worker_a, worker_b, follower_b = workers
    key_id = new_key(worker_a)
    create_alias(context(worker_a), CreateAliasRequest(alias_name=ALIAS, target_key_id=key_id))
    assert follower_b.poll() >= 1
    assert resolved(worker_b, ALIAS) == key_id  # B now caches the alias

    delete_alias(context(worker_a), DeleteAliasRequest(alias_name=ALIAS))
    with pytest.raises(NotFoundException):
        resolved(worker_a, ALIAS)
    assert resolved(worker_b, ALIAS) == key_id  # B has not polled: its cache still answers
    assert follower_b.poll() == 1
    with pytest.raises(NotFoundException):
        resolved(worker_b, ALIAS)


def test_an_alias_created_again_on_one_worker_reaches_the_other(
    workers: tuple[Services, Services, ChangeFollower],
) -> None:
    # Deleted and created again for another key between two of B's polls: B must not keep
    # the first key because the name "came back".
    worker_a, worker_b, follower_b = workers
    first, second = new_key(worker_a), new_key(worker_a)
    create_alias(context(worker_a), CreateAliasRequest(alias_name=ALIAS, target_key_id=first))
    follower_b.poll()
    assert resolved(worker_b, ALIAS) == first

    delete_alias(context(worker_a), DeleteAliasRequest(alias_name=ALIAS))
    create_alias(context(worker_a), CreateAliasRequest(alias_name=ALIAS, target_key_id=second))
    assert resolved(worker_b, ALIAS) == first
    assert follower_b.poll() == 2
    assert resolved(worker_b, ALIAS) == second

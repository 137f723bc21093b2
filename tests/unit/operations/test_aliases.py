"""Alias operations (DESIGN §4) against a real store with a moved clock: AWS's name rules, the
target-key rules, resolution in every KeyId, ListAliases paging, and aliases of deleted keys."""

from __future__ import annotations

import base64
import dataclasses

import pytest

from qkms.domain.arns import ArnFormat, Arns
from qkms.domain.errors import (
    AlreadyExistsException,
    InvalidMarkerException,
    KMSInvalidStateException,
    NotAuthorizedException,
    NotFoundException,
    ValidationException,
)
from qkms.operations.aliases._rules import check_alias_name
from qkms.operations.aliases.create_alias import create_alias
from qkms.operations.aliases.delete_alias import delete_alias
from qkms.operations.aliases.list_aliases import list_aliases
from qkms.operations.aliases.update_alias import update_alias
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.describe_key import describe_key
from qkms.operations.keys.get_public_key import get_public_key
from qkms.operations.keys.schedule_key_deletion import schedule_key_deletion
from qkms.operations.runtime.background import sweep_deleted_keys
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.shapes import (
    CreateAliasRequest,
    CreateKeyRequest,
    DeleteAliasRequest,
    DescribeKeyRequest,
    GetPublicKeyRequest,
    ListAliasesRequest,
    ScheduleKeyDeletionRequest,
    UpdateAliasRequest,
)
from qkms.storage import UserPolicyRow
from tests.unit.support import ACCOUNT, FakeClock, context

DAY = 86400.0
OTHER_ACCOUNT = "444455556666"


def new_key(
    ctx: OperationContext, spec: str = "ECC_NIST_P256", usage: str = "KEY_AGREEMENT"
) -> str:
    return create_key(ctx, CreateKeyRequest(key_spec=spec, key_usage=usage)).key_metadata.key_id


def alias(ctx: OperationContext, name: str, target: str) -> None:
    create_alias(ctx, CreateAliasRequest(alias_name=name, target_key_id=target))


def resolved(ctx: OperationContext, ref: str) -> str:
    return describe_key(ctx, DescribeKeyRequest(key_id=ref)).key_metadata.key_id


def listed(ctx: OperationContext, key_id: str | None = None) -> list[tuple[str, str]]:
    response = list_aliases(ctx, ListAliasesRequest(key_id=key_id))
    return [(a.alias_name, a.target_key_id) for a in response.aliases]


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["alias/a", "alias/Az09:/_-", "alias/" + "x" * 250, "alias/awsome", "alias/AWS-not-reserved"],
)
def test_valid_alias_names(name: str) -> None:
    check_alias_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a",
        "alias",
        "alias/",
        "Alias/x",
        "ALIAS/x",
        "alias/a b",
        "alias/a.b",
        "alias/a*",
        "x/alias/a",
    ],
)
def test_invalid_alias_names(name: str) -> None:
    with pytest.raises(ValidationException):
        check_alias_name(name)


@pytest.mark.parametrize("name", ["alias/aws/x", "alias/aws/ebs", "alias/aws/a/b"])
def test_reserved_alias_names(name: str) -> None:
    with pytest.raises(NotAuthorizedException):
        check_alias_name(name)


# --- resolution ----------------------------------------------------------------------------------


def test_alias_name_and_alias_arns_resolve_to_the_key(ctx: OperationContext) -> None:
    key_id = new_key(ctx)
    alias(ctx, "alias/app", key_id)
    key_arn = f"arn:verenc:{ACCOUNT}:key/{key_id}"
    for ref in (
        "alias/app",
        f"arn:verenc:{ACCOUNT}:alias/app",
        f"arn:verenc:kms:us-east-1:{ACCOUNT}:alias/app",
    ):
        assert resolved(ctx, ref) == key_id
        assert get_public_key(ctx, GetPublicKeyRequest(key_id=ref)).key_id == key_arn


@pytest.mark.parametrize("arn_format", [ArnFormat.SEED, ArnFormat.AWS])
def test_the_alias_arn_list_aliases_reports_resolves_even_with_a_colon_in_the_name(
    services: Services, arn_format: ArnFormat
) -> None:
    # AWS's AliasName pattern ^[a-zA-Z0-9:/_-]+$ allows ':' after the prefix.
    shaped = dataclasses.replace(services, arns=Arns(arn_format=arn_format))
    ctx = context(shaped)
    key_id = new_key(ctx)
    alias(ctx, "alias/team:blue", key_id)
    (entry,) = list_aliases(ctx, ListAliasesRequest()).aliases
    assert entry.alias_arn.endswith(f"{ACCOUNT}:alias/team:blue")
    assert resolved(ctx, "alias/team:blue") == key_id
    assert resolved(ctx, entry.alias_arn) == key_id


def test_an_alias_resolves_in_its_own_account_only(services: Services, clock: FakeClock) -> None:
    store = services.store
    store.ensure_account(OTHER_ACCOUNT, clock())
    store.ensure_user(OTHER_ACCOUNT, "admin", clock())
    everything = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}'
    )
    store.put_user_policy(UserPolicyRow(OTHER_ACCOUNT, "admin", "all", everything), clock())
    mine, theirs = context(services), context(services, OTHER_ACCOUNT)
    my_key, their_key = new_key(mine), new_key(theirs)
    alias(mine, "alias/same", my_key)
    alias(theirs, "alias/same", their_key)
    alias(theirs, "alias/only-theirs", their_key)

    assert resolved(mine, "alias/same") == my_key
    assert resolved(theirs, "alias/same") == their_key
    with pytest.raises(NotFoundException):
        resolved(mine, "alias/only-theirs")
    with pytest.raises(NotFoundException):  # the default key policy does not share the key
        resolved(mine, f"arn:verenc:{OTHER_ACCOUNT}:alias/only-theirs")
    assert listed(mine) == [("alias/same", my_key)]
    assert listed(theirs) == [("alias/only-theirs", their_key), ("alias/same", their_key)]
    # No alias of one account may point at another account's key.
    with pytest.raises((NotFoundException, ValidationException)):
        alias(mine, "alias/stolen", f"arn:verenc:{OTHER_ACCOUNT}:key/{their_key}")
    assert listed(mine) == [("alias/same", my_key)]


# --- CreateAlias / UpdateAlias / DeleteAlias ----------------------------------------------------


def test_create_alias_twice_is_already_exists(ctx: OperationContext) -> None:
    first, second = new_key(ctx), new_key(ctx)
    alias(ctx, "alias/once", first)
    with pytest.raises(AlreadyExistsException, match=f"arn:verenc:{ACCOUNT}:alias/once"):
        alias(ctx, "alias/once", second)
    assert listed(ctx) == [("alias/once", first)]


@pytest.mark.parametrize(
    "target", ["alias/existing", f"arn:verenc:{ACCOUNT}:alias/existing", "alias/missing"]
)
def test_target_key_id_may_not_be_an_alias(ctx: OperationContext, target: str) -> None:
    alias(ctx, "alias/existing", new_key(ctx))
    with pytest.raises(ValidationException):
        alias(ctx, "alias/new", target)
    with pytest.raises(ValidationException):
        update_alias(ctx, UpdateAliasRequest(alias_name="alias/existing", target_key_id=target))


def test_target_pending_deletion_is_invalid_state(ctx: OperationContext) -> None:
    doomed, live = new_key(ctx), new_key(ctx)
    schedule_key_deletion(ctx, ScheduleKeyDeletionRequest(key_id=doomed, pending_window_in_days=7))
    with pytest.raises(KMSInvalidStateException):
        alias(ctx, "alias/x", doomed)
    alias(ctx, "alias/x", live)
    with pytest.raises(KMSInvalidStateException):
        update_alias(ctx, UpdateAliasRequest(alias_name="alias/x", target_key_id=doomed))
    assert listed(ctx) == [("alias/x", live)]


def test_update_alias_moves_the_name_at_once(ctx: OperationContext, clock: FakeClock) -> None:
    first, second = new_key(ctx), new_key(ctx, "ECC_NIST_P384", "DERIVE_SHARED_SECRET")
    alias(ctx, "alias/moving", first)
    assert resolved(ctx, "alias/moving") == first  # now cached
    clock.advance(60)
    update_alias(ctx, UpdateAliasRequest(alias_name="alias/moving", target_key_id=second))
    assert resolved(ctx, "alias/moving") == second
    (entry,) = list_aliases(ctx, ListAliasesRequest()).aliases
    assert entry.target_key_id == second
    assert entry.last_updated_date == entry.creation_date + 60


@pytest.mark.parametrize(
    ("spec", "usage"), [("ECC_NIST_P256", "SIGN_VERIFY"), ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")]
)
def test_update_alias_to_another_type_or_usage_is_refused(
    ctx: OperationContext, spec: str, usage: str
) -> None:
    first, other = new_key(ctx), new_key(ctx, spec, usage)
    alias(ctx, "alias/typed", first)
    with pytest.raises(ValidationException):
        update_alias(ctx, UpdateAliasRequest(alias_name="alias/typed", target_key_id=other))
    assert resolved(ctx, "alias/typed") == first


def test_update_and_delete_of_a_missing_alias_are_not_found(ctx: OperationContext) -> None:
    key_id = new_key(ctx)
    with pytest.raises(NotFoundException):
        update_alias(ctx, UpdateAliasRequest(alias_name="alias/none", target_key_id=key_id))
    with pytest.raises(NotFoundException):
        delete_alias(ctx, DeleteAliasRequest(alias_name="alias/none"))
    assert listed(ctx) == []


def test_delete_alias_frees_the_name_at_once(ctx: OperationContext) -> None:
    first, second = new_key(ctx), new_key(ctx)
    alias(ctx, "alias/gone", first)
    assert resolved(ctx, "alias/gone") == first  # now cached
    delete_alias(ctx, DeleteAliasRequest(alias_name="alias/gone"))
    with pytest.raises(NotFoundException):
        resolved(ctx, "alias/gone")
    assert resolved(ctx, first) == first
    alias(ctx, "alias/gone", second)
    assert resolved(ctx, "alias/gone") == second


# --- ListAliases -------------------------------------------------------------------------------


def test_list_aliases_pages(ctx: OperationContext) -> None:
    key_id, other = new_key(ctx), new_key(ctx)
    names = [f"alias/n{i}" for i in range(5)]
    for name in reversed(names):
        alias(ctx, name, key_id)
    alias(ctx, "alias/other", other)
    pages = []
    marker = None
    while True:
        page = list_aliases(ctx, ListAliasesRequest(key_id=key_id, limit=2, marker=marker))
        pages.append(page)
        if not page.truncated:
            assert page.next_marker is None
            break
        assert page.next_marker is not None
        marker = page.next_marker
    assert [[a.alias_name for a in p.aliases] for p in pages] == [names[:2], names[2:4], names[4:]]
    assert [p.truncated for p in pages] == [True, True, False]
    # Exactly a page's worth is not truncated.
    exact = list_aliases(ctx, ListAliasesRequest(key_id=key_id, limit=5))
    assert (len(exact.aliases), exact.truncated) == (5, False)
    assert listed(ctx, "alias/other") == [("alias/other", other)]


@pytest.mark.parametrize(
    "marker", ["garbage", base64.urlsafe_b64encode(b"key/abc").decode(), "\u00ff\u00fe"]
)
def test_list_aliases_invalid_marker(ctx: OperationContext, marker: str) -> None:
    with pytest.raises(InvalidMarkerException):
        list_aliases(ctx, ListAliasesRequest(marker=marker))


# --- aliases of deleted keys ------------------------------------------------------------------


def _doom(ctx: OperationContext, clock: FakeClock) -> tuple[str, str]:
    doomed, survivor = new_key(ctx), new_key(ctx)
    alias(ctx, "alias/doomed-1", doomed)
    alias(ctx, "alias/doomed-2", doomed)
    alias(ctx, "alias/survivor", survivor)
    assert resolved(ctx, "alias/doomed-1") == doomed  # cached
    schedule_key_deletion(ctx, ScheduleKeyDeletionRequest(key_id=doomed, pending_window_in_days=7))
    clock.advance(7 * DAY - 1)
    # Pending deletion: the aliases stay (AWS), resolution answers the key's state.
    assert [name for name, _ in listed(ctx)] == [
        "alias/doomed-1",
        "alias/doomed-2",
        "alias/survivor",
    ]
    assert resolved(ctx, "alias/doomed-2") == doomed
    clock.advance(1)
    return doomed, survivor


def test_a_deleted_keys_aliases_disappear_with_it(
    ctx: OperationContext, services: Services, clock: FakeClock
) -> None:
    doomed, survivor = _doom(ctx, clock)
    assert sweep_deleted_keys(services) == [doomed]
    assert listed(ctx) == [("alias/survivor", survivor)]
    for ref in ("alias/doomed-1", f"arn:verenc:{ACCOUNT}:alias/doomed-2"):
        with pytest.raises(NotFoundException):
            resolved(ctx, ref)
    with pytest.raises(NotFoundException):
        delete_alias(ctx, DeleteAliasRequest(alias_name="alias/doomed-1"))
    # The names are free for another key.
    alias(ctx, "alias/doomed-1", survivor)
    assert resolved(ctx, "alias/doomed-1") == survivor


def test_a_deleted_keys_aliases_are_gone_even_before_the_sweeper_runs(
    ctx: OperationContext, clock: FakeClock
) -> None:
    # The key is gone the moment its window ends (DescribeKey, ListKeys: test_key_deletion);
    # its aliases must not outlive it in ListAliases or block their names until the sweep.
    _, survivor = _doom(ctx, clock)
    with pytest.raises(NotFoundException):
        resolved(ctx, "alias/doomed-1")
    assert listed(ctx) == [("alias/survivor", survivor)]
    alias(ctx, "alias/doomed-2", survivor)
    assert resolved(ctx, "alias/doomed-2") == survivor

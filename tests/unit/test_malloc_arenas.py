"""The worker's malloc arena cap (qkms/malloc_arenas.py): set by QKMS unless the operator set one."""

from __future__ import annotations

import ctypes
import platform

import pytest

from qkms.malloc_arenas import limit_malloc_arenas


def test_an_operators_malloc_arena_max_is_left_as_it_is() -> None:
    assert limit_malloc_arenas({"MALLOC_ARENA_MAX": "8"}) is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt's arena cap is glibc's")
def test_without_one_the_worker_caps_its_arenas() -> None:
    assert hasattr(ctypes.CDLL(None), "mallopt")
    assert limit_malloc_arenas({}) is True

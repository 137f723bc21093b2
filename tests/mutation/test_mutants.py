"""The planted-bug table stays usable: every mutant still applies to today's code, once."""

from __future__ import annotations

import pytest

from tests.mutation.check import ROOT
from tests.mutation.mutants import MUTANTS, Mutant


def test_mutant_names_are_unique() -> None:
    names = [mutant.name for mutant in MUTANTS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda mutant: mutant.name)
def test_each_mutant_applies_exactly_once_and_compiles(mutant: Mutant) -> None:
    # When code moves on, update the mutant's `old`/`new` to plant the same bug in the new code.
    source = (ROOT / mutant.path).read_text()
    assert source.count(mutant.old) == 1, f"{mutant.name}: `old` no longer matches {mutant.path}"
    assert mutant.old != mutant.new
    compile(source.replace(mutant.old, mutant.new), mutant.path, "exec")
    for selection in mutant.tests:
        assert (ROOT / selection.split("::")[0]).exists(), selection

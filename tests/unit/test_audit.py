"""The audit hash chain detects editing, deleting, reordering and truncating entries."""
import dataclasses

import pytest

from orchestrator.core.audit import GENESIS, AuditEntry, entry_hash, verify_chain


def chain(n):
    out, prev = [], GENESIS
    for i in range(1, n + 1):
        fields = (i, f"2026-01-01T00:00:0{i}", "alice@h", "create", f"server:x/{i}", "A-1", {"i": i})
        h = entry_hash(*fields, prev)
        out.append(AuditEntry(*fields, prev, h))
        prev = h
    return out


def test_intact_chain_verifies():
    c = chain(5)
    assert verify_chain(c, (5, c[-1].hash)) is None


def test_edited_entry_is_found():
    c = chain(5)
    c[2] = dataclasses.replace(c[2], actor="mallory@h")
    brk = verify_chain(c, (5, c[-1].hash))
    assert brk.seq == 3 and "edited" in brk.reason


def test_deleted_entry_is_found():
    c = chain(5)
    del c[1]
    assert verify_chain(c, (5, c[-1].hash)).seq == 3


def test_reordered_entries_are_found():
    c = chain(5)
    c[1], c[2] = c[2], c[1]
    assert verify_chain(c, (5, c[-1].hash)) is not None


def test_truncated_tail_is_found_through_the_head():
    c = chain(5)
    head = (5, c[-1].hash)
    brk = verify_chain(c[:3], head)
    assert brk is not None and "cut off" in brk.reason


@pytest.mark.parametrize("n", [0, 1])
def test_small_chains(n):
    c = chain(n)
    assert verify_chain(c, (n, c[-1].hash) if c else None) is None

"""orchestrator.json_text.dumps is json.dumps(..., ensure_ascii=False, indent=2) byte for byte."""
from __future__ import annotations

import datetime as dt
import enum
import json
import random

import pytest

from orchestrator.json_text import dumps

WORDS = ["", "a", "政务云", "line\nbreak", 'quote"s', "back\\slash", "tab\t", "\u2028", "😀",
         "\x00\x1f", "{not: json}", ",\n  ", ": ", "},\n    {", "}, {"]


class Colour(str, enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    TWO = 2


def scalar(rng: random.Random):
    return rng.choice([rng.choice(WORDS), rng.randint(-10**20, 10**20), rng.random() * 1e6,
                       float("nan"), float("inf"), 0.1, True, False, None, Colour.RED,
                       Level.TWO])


def doc(rng: random.Random, depth: int = 0):
    r = rng.random()
    if depth > 4 or r < 0.3:
        return scalar(rng)
    n = rng.randint(0, 6)
    if r < 0.55:
        return [doc(rng, depth + 1) for _ in range(n)]
    if r < 0.65:
        return tuple(scalar(rng) for _ in range(n))
    if r < 0.72:     # flat: the C-encoder path
        return {rng.choice(WORDS) + str(i): scalar(rng) for i in range(n)}
    if r < 0.8:      # a list of flat records (a bill's lines), now and then one that is not
        return [{rng.choice(WORDS) + str(i): scalar(rng) for i in range(rng.randint(0, 4))}
                if rng.random() < 0.95 else doc(rng, depth + 1) for _ in range(n)]
    keys = [rng.choice(WORDS + [1, 2.5, True, None, -3]) for _ in range(n)]
    return {k: doc(rng, depth + 1) for k in keys}


def test_same_text_as_json_dumps_with_indent():
    rng = random.Random(19)
    for _ in range(3000):
        d = doc(rng)
        assert dumps(d) == json.dumps(d, ensure_ascii=False, indent=2), d


def test_default_is_used_like_json_dumps():
    d = {"on": dt.date(2026, 11, 30), "list": [dt.date(2026, 1, 1), {"x": dt.time(1, 2)}]}
    assert dumps(d, default=str) == json.dumps(d, ensure_ascii=False, indent=2, default=str)
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps({"on": dt.date(2026, 1, 1), "n": 1})


def test_a_bill_shaped_document():
    bill = {"format": "govcloud-bill/1", "systems": [
        {"lines": [{"approval": "BZ-1", "quantity": "2", "days": 30, "first": None,
                    "note": ""}] * 3, "deductions": [], "notes": ["x"]}], "total": "1.00"}
    assert dumps(bill) == json.dumps(bill, ensure_ascii=False, indent=2)


def test_dump_writes_the_same_text_in_pieces():
    from orchestrator.json_text import dump
    d = {"systems": [{"lines": [{"n": i, "s": "政务云"} for i in range(50)], "k": i}
                     for i in range(3000)]}
    pieces: list[str] = []
    dump(d, pieces.append)
    assert len(pieces) > 1 and "".join(pieces) == json.dumps(d, ensure_ascii=False, indent=2)

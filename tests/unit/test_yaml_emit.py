"""orchestrator.core.yaml_emit writes exactly what PyYAML (libyaml's emitter) writes, or declines."""
import random
from pathlib import Path

import pytest
import yaml

from orchestrator.core import yaml_emit
from orchestrator.core.compile import _SpecDumper

REPO = Path(__file__).resolve().parents[2]
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def pyyaml(data) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=100)


def test_example_stacks_round_trip():
    specs = sorted((REPO / "stacks" / "example").rglob("*.yaml"))
    assert specs
    for path in specs:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        text = yaml_emit.dump(data)
        assert text is not None, path
        assert text == pyyaml(data), path
        assert text == yaml.dump(data, Dumper=_SpecDumper, allow_unicode=True, sort_keys=False,
                                 default_flow_style=False, width=100)


@pytest.mark.parametrize("value", [
    "", " ", "a", "a b", " a", "a ", "yes", "No", "ON", "null", "~", "Null", "true", "1", "-1",
    "0x1f", "0o17", "1_000", "1e5", "1.5", ".inf", "-.inf", ".nan", "12:30", "2024-01-01",
    "2024-01-01 10:00:00", "<<", "=", "---", "...", "--- a", "-", "- a", "-a", "?", "? a", "?a",
    ":", ": a", ":a", "a:", "a: b", "a:b", "#", "a #b", "a#b", "'", "it's", '"', "a'b'c", "@x",
    "`x", "%x", "&x", "*x", "!x", "|", ">", "[", "]", "{", "}", ",", "a,b", "a[0]", "政务外网接口",
    "第0教育局 政务服务门户0 (internet)", "\u00a0", "a\u3000b", "x" * 130, "y " * 70,
    "0.0.0.0/0", "59.203.16.0/24", "zone:extranet", "tcp", "Mbps·月", "3356.00", "'2'",
])
def test_scalars(value):
    for data in ({"k": value}, {"k": [value, {"k2": value}]}, {value or "k": 1},
                 {"a": {"b": {"c": [[value], []], "d": {}}}}):
        text = yaml_emit.dump(data)
        if text is not None:
            assert text == pyyaml(data), data


@pytest.mark.parametrize("value", ["a\nb", "tab\there", "\x85", "\u2028", "\ufeff", "😀", 1.5,
                                   b"bytes", ("t",), "z " * 60])
def test_declines_what_it_does_not_reproduce(value):
    data = {"key": {"deeper": ["item", value]}}
    assert yaml_emit.dump(data) is None
    assert pyyaml(data)   # the caller falls back to PyYAML


def test_shared_objects_are_left_to_pyyaml():
    shared = {"a": 1}
    assert yaml_emit.dump({"x": shared, "y": shared}) is None
    empty: list = []
    assert yaml_emit.dump({"x": empty, "y": empty}) is None


def test_random_documents():
    rng = random.Random(20261123)
    pieces = list("ab -:#?,[]{}&*!|>'\"%@`.0123456789eE+_~/\\") + [
        "政", "务", "\u00a0", "\u3000", "yes", "no", "null", "true", "~", "---", "...", "<<", "=",
        "0x1f", "1_000", "12:30", "2024-01-01", "1e5", ".inf", "0o7", "Null", "ON", "y", "n"]

    def text():
        return "".join(rng.choice(pieces) for _ in range(rng.choice([0, 1, 1, 2, 3, 5, 8, 12, 40])))

    def value(depth):
        r = rng.random()
        if depth > 3 or r < 0.6:
            c = rng.random()
            if c < 0.6:
                return text()
            if c < 0.75:
                return rng.randint(-10**6, 10**6)
            if c < 0.85:
                return rng.choice([True, False])
            if c < 0.95:
                return None
            return rng.choice([{}, []])
        if r < 0.8:
            return {text(): value(depth + 1) for _ in range(rng.randint(0, 5))}
        return [value(depth + 1) for _ in range(rng.randint(0, 5))]

    written = 0
    for _ in range(3000):
        data = {text(): value(0) for _ in range(rng.randint(1, 6))}
        out = yaml_emit.dump(data)
        if out is not None:
            written += 1
            assert out == pyyaml(data), data
    assert written > 2000

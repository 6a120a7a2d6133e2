"""The loader's fast path (orchestrator/inputs.py _Loader.construct_document/_plain) builds
exactly what PyYAML's generic constructor builds, and leaves every other document and every
error to it."""
import pytest
import yaml

from orchestrator import inputs


class _Generic(inputs._Loader):
    """The same loader without the fast path."""
    def resolve(self, *a):
        return yaml.resolver.BaseResolver.resolve(self, *a)

    def construct_document(self, node):
        return yaml.constructor.BaseConstructor.construct_document(self, node)


def _shape(x):
    if isinstance(x, dict):
        return {k: _shape(v) for k, v in x.items()}, type(x).__name__
    if isinstance(x, list):
        return [_shape(v) for v in x]
    return x, type(x).__name__


DOCS = [
    "a: 1\nb: -0x1F\nc: 0o17\nd: 1_000\ne: +12\nf: 0b101\ng: 190:20:30\n",
    "t: [true, True, TRUE, false, yes, no, on, off, y, n]\n",
    "z: [~, null, Null, '', ]\nempty:\n",
    "d: 2026-01-31\nts: 2026-01-31 10:00:00\nq: '2026-01-31'\n",
    "f: [1.5, .inf, -.Inf, .nan, 1e3, 6.8523015e+5]\n",
    "s: [web-1, 'x: y', \"quoted\"]\nblock: |\n  two\n  lines\nfolded: >\n  one\n  line\n",
    "k: {2: two, true: yes, null: nothing, 2026-01-01: day}\n",
    "base: &b {x: 1, y: [1, 2]}\nother: *b\nmerged: {<<: *b, z: 3}\n",
    "u: 政务云\nnested: {a: {b: {c: [1, {d: e}]}}}\n",
    "bin: !!binary aGVsbG8=\nstr: !!str 12\nint: !!int '7'\n",
    "- 1\n- two\n- [3]\n",
    "plain scalar",
    "",
]


@pytest.mark.parametrize("doc", DOCS)
def test_the_same_data_as_the_generic_constructor(doc):
    fast, generic = yaml.load(doc, Loader=inputs._Loader), yaml.load(doc, Loader=_Generic)
    assert _shape(fast) == _shape(generic) or (doc.startswith("f:") and str(fast) == str(generic))


def test_aliases_stay_shared_as_the_generic_constructor_shares_them():
    data = yaml.load("a: &x [1]\nb: *x\n", Loader=inputs._Loader)
    assert data["a"] is data["b"]


@pytest.mark.parametrize("doc,message", [
    ("a: 1\nb: 2\na: 3\n", "duplicate key 'a' (first on line 1)"),
    ("x: {k: 1, k: 2}\n", "duplicate key 'k'"),
    ("k: {1: one, true: yes}\n", "duplicate key True"),
    ("d: 2026-13-01\n", "is not a valid date"),
    ("p: !!python/object:os.system x\n", "could not determine a constructor"),
    ("[a]: 1\n", "found unhashable key"),
])
def test_errors_are_the_generic_constructors(doc, message):
    errors = []
    for loader in (inputs._Loader, _Generic):
        with pytest.raises(yaml.YAMLError) as exc:
            yaml.load(doc, Loader=loader)
        errors.append(str(exc.value))
    assert errors[0] == errors[1] and message in errors[0]

"""Structure-aware mutations of a workspace's inputs for the fuzzer (test_fuzz_inputs.py).

A mutation takes one input document (an approval, the catalog, the profile or govcloud.toml),
parsed, and changes one node: drops or duplicates it, gives it another type, a huge, negative or
non-finite number, hostile Unicode, deep nesting, YAML aliases (a billion laughs, a recursive
alias, shared nodes), a duplicate key, an unknown field or an unknown reference; or it replaces a
whole file by the wrong kind of file (FIFO, directory, symlinks dangling, looping or leading
outside, /dev/zero, binary, GBK, another document). Each mutation says whether the result must
be refused (``must_refuse``: True), or may be either (None): the fuzzer's oracle.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml
from hypothesis import strategies as st

FILES = {
    "approval": "approvals/BZ-2026-0012.yaml",
    "catalog": "catalog/services.yaml",
    "profile": "catalog/profiles/bazhong.yaml",
    "config": "govcloud.toml",
}
# Fields that name something another document must define: an unknown name must be refused.
REFERENCES = {"flavor", "type", "item", "image", "target", "driver", "profile", "category",
              "protocol", "kind", "unit", "currency", "external_network", "layout"}
# Maps whose keys are names of the user's choosing (an unknown key there is not an unknown
# field) and values whose type the schema leaves open.
FREE = {("profile", "reference")}
# Paths the commands write to: a relative one leading outside the workspace must be refused.
ESCAPES = {"url": "sqlite:///../outside/state.db", "data_dir": "../outside/cloud"}
# Number-like strings where a string holds a number (a price): out of range, non-finite or not a
# number must be refused; others are the same number written otherwise.
NUMBER_STRINGS = [("1e30", True), ("-5.00", True), ("NaN", True), ("Infinity", True),
                  ("0x10", True), ("-0", None), ("1_000", None), ("９９", None)]
# YAML tags: constructors a safe loader must refuse, and types no field has.
TAGS = [("!!python/object/apply:os.system [touch /tmp/govcloud-fuzz-pwned]", True),
        ("!!binary aGVsbG8=", True), ("!!set {a, b}", True), ("!!float 1e400", True),
        ("!!timestamp 2026-01-01T10:00:00", None), ("!!str 5", None), ("!!null ''", None)]
HUGE = [2 ** 63, 2 ** 64, -(2 ** 63), 10 ** 30, 1e30, 1e308]
NONFINITE = [math.nan, math.inf, -math.inf]
UNICODE = ["\u202eevil\u202c", "a\u200db", "🙂" * 10, "市\u0301民", "\ufeffbom", "x\x1b[31mred",
           "line\nbreak", "nul\x00byte", "'; DROP TABLE objects; --", "<script>alert(1)</script>",
           "../../outside", "x" * 100_000, "", " ", "ＡＢＣ"]


@dataclass
class Mutation:
    kind: str                      # the file kind mutated (FILES) or the directory
    what: str                      # human-readable: where and how
    must_refuse: bool | None
    write: Callable[[Path, Path], None] = field(repr=False)   # (workspace, sandbox)

    def __str__(self) -> str:
        return f"{self.kind}: {self.what} (must_refuse={self.must_refuse})"


# --- documents -----------------------------------------------------------------------------------
class Docs(dict):
    """The parsed (or raw) documents, with a short repr (hypothesis prints its strategies)."""

    def __repr__(self) -> str:
        return f"Docs({', '.join(self)})"


def load_docs(ws: Path) -> Docs:
    out = Docs()
    for kind, rel in FILES.items():
        text = (ws / rel).read_text(encoding="utf-8")
        out[kind] = tomllib.loads(text) if rel.endswith(".toml") else yaml.safe_load(text)
    return out


def nodes(doc: Any, path: tuple = ()) -> list[tuple]:
    """Every node's path (root excluded), parents before children."""
    out = []
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for k, v in items:
        out.append(path + (k,))
        out.extend(nodes(v, path + (k,)))
    return out


def get(doc: Any, path: tuple) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def put(doc: Any, path: tuple, value: Any) -> None:
    get(doc, path[:-1])[path[-1]] = value


def _name(path: tuple) -> str:
    return ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path).replace(".[", "[")


def _key(path: tuple) -> str | None:
    return next((p for p in reversed(path) if isinstance(p, str)), None)


def _free(kind: str, path: tuple) -> bool:
    return any(kind == k and path[:len(p)] == p for k, *rest in FREE for p in [tuple(rest)])


# --- serialisers -----------------------------------------------------------------------------
class DupMap(list):
    """A mapping written with a repeated key (a list of pairs)."""


class Raw(str):
    """Text put into the document as it is (a placeholder replaced after dumping)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(DupMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", list(v)))


def dump(kind: str, doc: Any) -> bytes:
    raws: list[str] = []

    def swap(v):   # Raw values out, placeholders in
        if isinstance(v, Raw):
            raws.append(str(v))
            return f"@@RAW{len(raws) - 1}@@"
        if isinstance(v, DupMap):
            return DupMap((k, swap(x)) for k, x in v)
        if isinstance(v, dict):
            return {k: swap(x) for k, x in v.items()}
        if isinstance(v, list):
            return [swap(x) for x in v]
        return v
    doc = swap(doc)
    text = toml_dumps(doc) if FILES[kind].endswith(".toml") else \
        yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000)
    for i, raw in enumerate(raws):
        for quoted in (f"'@@RAW{i}@@'", f'"@@RAW{i}@@"', f"@@RAW{i}@@"):
            text = text.replace(quoted, raw)
    return text.encode("utf-8", "surrogatepass")


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, DupMap):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v if x is not None) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v.items()
                               if x is not None) + "}"
    raise TypeError(type(v))


def toml_dumps(doc: dict, prefix: str = "") -> str:
    """A small TOML writer for govcloud.toml's shape (None: the key left out; TOML has no null)."""
    pairs = list(doc) if isinstance(doc, DupMap) else list(doc.items())
    lines = [f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in pairs
             if v is not None and not (isinstance(v, dict) and not isinstance(v, DupMap))]
    out = "\n".join(lines) + ("\n" if lines else "")
    for k, v in pairs:
        if isinstance(v, dict) and not isinstance(v, DupMap):
            name = f"{prefix}.{json.dumps(str(k))}" if prefix else json.dumps(str(k))
            out += f"\n[{name}]\n" + toml_dumps(v, name)
    return out


# --- node mutations ------------------------------------------------------------------------------
def _type(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, (dt.date, dt.datetime)):
        return "date"
    return {str: "str", list: "list", dict: "dict", type(None): "null"}.get(type(v), "other")


# What a value of each type may be replaced by, and whether the result must be refused: a type
# that never stands for another (a list for a number), a bool or number where the other is meant
# (YAML's yes/1: silent coercions), a timestamp where a date is meant.
RETYPES: dict[str, list[tuple[Any, bool | None]]] = {
    "number": [("abc", True), ([1], True), ({"a": 1}, True), (True, True), ("12", True),
               (None, None), (1.5, None)],
    "str": [([], True), ({"a": "b"}, True), (True, True), (None, None), (7, None)],
    "bool": [(1, True), ("yes", True), ([], True), (None, None), (0, True)],
    "list": [("x", True), (5, True), ({"a": 1}, True), (None, None), ([], None)],
    "dict": [("x", True), (5, True), ([1, 2], True), (None, None), ({}, None)],
    "date": [(1767225600, True), ("not a date", True), ([], True), (None, None)],
    "null": [("x", None), (5, None), ([], None)],
}


def _numeric(v: str) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False


def _deep(depth: int) -> Raw:
    return Raw("[" * depth + "1" + "]" * depth)


def _laughs(levels: int = 9) -> Raw:
    parts = ["&l0 [x, x, x, x, x, x, x, x, x]"]
    parts += [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return Raw("[" + ", ".join(parts) + "]")


@st.composite
def node_mutation(draw, docs: dict[str, Any]) -> Mutation:
    kind = draw(st.sampled_from(sorted(FILES)))
    doc = copy.deepcopy(docs[kind])
    path = draw(st.sampled_from(nodes(doc)))
    value = get(doc, path)
    parent = get(doc, path[:-1])
    t = _type(value)
    key = _key(path)
    toml = FILES[kind].endswith(".toml")
    free = _free(kind, path)
    ops = ["drop", "retype", "unicode" if t == "str" else "retype", "deep", "unknown-key",
           "duplicate"]
    if t == "number":
        ops += ["huge", "negative", "nonfinite", "zero"]
    if t == "str" and key in REFERENCES and not free:
        ops += ["unknown-ref"]
    if t == "str" and _numeric(value):   # prices are written as strings ("80.00")
        ops += ["number-string"] * 2
    if not toml and t in ("str", "number", "bool", "date"):
        ops += ["tag"]
    if t == "str" and key in ESCAPES:
        ops += ["escape"] * 3
    if not toml:
        ops += ["laughs", "recursive-alias", "shared-node"]
    op = draw(st.sampled_from(ops))
    must: bool | None = None
    where = _name(path)
    if op == "drop":
        del parent[path[-1]]
        what = f"drop {where}"
    elif op == "retype":
        new, must = draw(st.sampled_from(RETYPES[t]))
        if free or (toml and new is None):
            must = None
        put(doc, path, copy.deepcopy(new))
        what = f"{where} = {new!r} (was {t})"
    elif op == "unicode":
        new = draw(st.sampled_from(UNICODE))
        put(doc, path, new)
        what = f"{where} = {new[:40]!r}{'... (%d chars)' % len(new) if len(new) > 40 else ''}"
    elif op == "deep":
        depth = draw(st.sampled_from([64, 600, 5000]))
        put(doc, path, _deep(depth))
        must = None if free else True if t != "list" or depth > 100 else None
        what = f"{where} = a list nested {depth} deep"
    elif op == "unknown-key":
        target = value if isinstance(value, dict) else parent
        if not isinstance(target, dict):
            put(doc, path, {"zz_unknown_field": 1})
            what, must = f"{where} = {{zz_unknown_field: 1}}", True
        else:
            target["zz_unknown_field"] = 1
            what, must = f"{where}: add field zz_unknown_field", True
    elif op == "duplicate":
        if isinstance(parent, list):
            parent.insert(path[-1], copy.deepcopy(value))
            what = f"{where} duplicated"
        else:
            pairs = DupMap(parent.items())
            pairs.append((path[-1], value))
            if len(path) == 1:
                doc = pairs
            else:
                put(doc, path[:-1], pairs)
            what, must = f"{where}: key written twice", True
    elif op == "huge":
        new = draw(st.sampled_from(HUGE))
        put(doc, path, new)
        what, must = f"{where} = {new!r}", True
    elif op == "negative":
        new = -draw(st.sampled_from([1, 7, 1000]))
        put(doc, path, new)
        what, must = f"{where} = {new}", True
    elif op == "nonfinite":
        new = draw(st.sampled_from(NONFINITE))
        put(doc, path, new)
        what, must = f"{where} = {new!r}", True
    elif op == "zero":
        put(doc, path, 0)
        what = f"{where} = 0"
    elif op == "number-string":
        new, must = draw(st.sampled_from(NUMBER_STRINGS))
        put(doc, path, new)
        what, must = f"{where} = {new!r} (was {value!r})", None if free else must
    elif op == "tag":
        raw, must = draw(st.sampled_from(TAGS))
        put(doc, path, Raw(raw))
        what = f"{where} = {raw}"
        if free:
            must = None
    elif op == "escape":
        new = ESCAPES[key]
        put(doc, path, new)
        what, must = f"{where} = {new!r} (leads outside the workspace)", True
    elif op == "unknown-ref":
        put(doc, path, "zz-unknown")
        what, must = f"{where} = 'zz-unknown' (an unknown {key})", True
    elif op == "laughs":
        put(doc, path, _laughs())
        what, must = f"{where} = a billion laughs (9**9 values through aliases)", True
    elif op == "recursive-alias":
        put(doc, path, Raw("&loop [*loop]"))
        what, must = f"{where} = a list that contains itself (&loop [*loop])", True
    else:   # shared-node: the same object twice, which PyYAML writes as an anchor and an alias
        if isinstance(parent, list):
            parent.append(value)
            what = f"{where} appended again as an alias of itself"
        else:
            parent["zz_alias"] = value
            what, must = f"{where} aliased under an unknown field zz_alias", None if free else True
    data = dump(kind, doc)

    def write(ws: Path, _sandbox: Path, data=data, rel=FILES[kind]) -> None:
        (ws / rel).write_bytes(data)
    return Mutation(kind, what, must, write)


# --- wrong file kinds ----------------------------------------------------------------------------
def _replace(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        import shutil
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


FILE_KINDS = ["fifo", "directory", "dangling-symlink", "symlink-loop", "symlink-dev-zero",
              "symlink-outside", "empty", "binary", "gbk", "utf16", "other-document",
              "top-level-list", "top-level-scalar"]


@st.composite
def file_mutation(draw, docs_text: dict[str, bytes]) -> Mutation:
    kinds = sorted(FILES) + ["approvals/", "catalog/profiles/"]
    kind = draw(st.sampled_from(kinds))
    how = draw(st.sampled_from(FILE_KINDS if not kind.endswith("/") else
                               ["dangling-symlink", "symlink-loop", "empty", "symlink-outside"]))
    rel = FILES.get(kind, kind.rstrip("/"))
    other = draw(st.sampled_from(sorted(k for k in FILES if k != kind and not kind.endswith("/"))
                                 or ["approval"]))
    # Everything here must be refused, except: a file linked to a copy outside the workspace
    # (refused for approvals only: item 1 of issue 16), an empty approvals/ (no approvals is a
    # valid workspace) and catalog/profiles/ empty or linked to a copy (the profiles are read).
    must: bool | None = True
    if how == "symlink-outside" and kind not in ("approval", "approvals/"):
        must = None
    if how == "empty" and kind.endswith("/"):
        must = None

    def write(ws: Path, sandbox: Path) -> None:
        import shutil
        path = ws / rel
        original = path.read_bytes() if path.is_file() else b""
        outside = sandbox / "outside" / path.name
        if path.is_dir() and how == "symlink-outside":
            shutil.copytree(path, outside)
        _replace(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if how == "fifo":
            os.mkfifo(path)
        elif how == "directory":
            path.mkdir()
        elif how == "dangling-symlink":
            path.symlink_to(sandbox / "nowhere" / path.name)
        elif how == "symlink-loop":
            path.symlink_to(path.name)
        elif how == "symlink-dev-zero":
            path.symlink_to("/dev/zero")
        elif how == "symlink-outside":
            if not outside.exists():
                outside.write_bytes(original)
            path.symlink_to(outside)
        elif how == "empty":
            path.mkdir() if kind.endswith("/") else path.write_bytes(b"")
        elif how == "binary":
            path.write_bytes(bytes(range(256)) * 4)
        elif how == "gbk":
            path.write_bytes(docs_text[kind].decode("utf-8").encode("gbk", "replace"))
        elif how == "utf16":
            path.write_bytes(docs_text[kind].decode("utf-8").encode("utf-16"))
        elif how == "other-document":
            path.write_bytes(docs_text[other])
        elif how == "top-level-list":
            path.write_bytes(b"x = []\n" if rel.endswith(".toml") else b"[]\n")
        elif how == "top-level-scalar":
            path.write_bytes(b"42\n")
    what = f"{rel} replaced by {how}" + (f" ({FILES[other]})" if how == "other-document" else "")
    return Mutation(kind, what, must, write)

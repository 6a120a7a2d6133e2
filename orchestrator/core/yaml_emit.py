"""A direct YAML writer for plain data: the bytes PyYAML writes, without PyYAML's machinery.

``dump(data)`` returns what ``yaml.dump(data, Dumper=CSafeDumper, allow_unicode=True,
sort_keys=False, default_flow_style=False, width=100)`` returns (libyaml's emitter; 2-space
indent, block style, sequences in mappings not indented), or None when ``data`` holds anything
it does not reproduce with certainty; the caller then uses PyYAML. Covered:

- dict (str keys), list, str, int, bool, None; an empty dict or list is written ``{}``/``[]``;
- a string is written plain when libyaml's analysis allows a plain scalar in block context and
  it reads back as a string, else in single quotes. Anything that would need double quotes
  (control characters, tabs, line breaks, characters outside the BMP), a long scalar that
  libyaml would fold at the 100-column width, a key libyaml would not write as a simple key,
  floats and objects reached twice (PyYAML writes anchors and aliases) return None.

Why: PyYAML's representer and the calls libyaml's emitter makes back into Python were most of
`govcloud compile`'s time at 10,000 approvals (it writes every spec). tests/unit/test_yaml_emit.py
compares the two on the example stacks and on random data.
"""
from __future__ import annotations

import re

from yaml.resolver import Resolver

WIDTH = 100          # yaml.dump(width=100): libyaml folds a plain/quoted scalar past this column
_MAX_SIMPLE_KEY = 128  # libyaml: a longer key (in UTF-8 bytes) is written as "? key"

_STR_TAG = "tag:yaml.org,2002:str"
_resolver = Resolver()
_IMPLICIT = Resolver.yaml_implicit_resolvers   # first character -> [(tag, regexp)]

# Characters libyaml writes as they are (IS_PRINTABLE, less the line breaks): anything else in a
# string would make it double-quoted.
_UNSAFE = re.compile("[^\x20-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]")
# First characters that are indicators in block context (libyaml yaml_emitter_analyze_scalar).
_FIRST_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")


class _Fallback(Exception):
    pass


def _resolves_to_str(s: str) -> bool:
    """Would ``s`` written plain read back as a string (not a bool, int, float, null, date...)?"""
    resolvers = _IMPLICIT.get(s[0] if s else "")
    if not resolvers:
        return True
    for tag, regexp in resolvers:
        if regexp.match(s):
            return tag == _STR_TAG
    return True


def _plain_allowed(s: str) -> bool:
    """libyaml's block_plain_allowed for ``s`` (which has no line breaks or special characters)."""
    if s[0] == " " or s[-1] == " ":
        return False
    if s.startswith(("---", "...")):
        return False
    c = s[0]
    if c in _FIRST_INDICATORS:
        return False
    if c in "?:-" and (len(s) == 1 or s[1] == " "):
        return False
    if ": " in s or s.endswith(":") or " #" in s:
        return False
    return True


_CACHE_MAX = 200_000
_VALUES: dict[str, tuple[str, bool]] = {}   # str -> (text, may fold when long)
_KEYS: dict[tuple[str, str], str] = {}     # (indentation, key) -> "indentation key:"


class _Writer:
    __slots__ = ("out", "seen", "values", "keys")

    def __init__(self) -> None:
        self.out: list[str] = []        # lines, without their line breaks
        self.seen: set[int] = set()     # ids of the dicts and lists written
        # Shared by all documents (kinds, keys, targets, dates repeat across thousands of
        # specs); emptied when large.
        if len(_VALUES) > _CACHE_MAX or len(_KEYS) > _CACHE_MAX:
            _VALUES.clear()
            _KEYS.clear()
        self.values = _VALUES
        self.keys = _KEYS

    def string(self, v: str) -> tuple[str, bool]:
        """(text, folds): ``folds`` when libyaml could break the text at a space past WIDTH."""
        if _UNSAFE.search(v):
            raise _Fallback
        if v and _resolves_to_str(v) and _plain_allowed(v):
            r = (v, " " in v)
        else:
            r = ("'" + v.replace("'", "''") + "'", " " in v)
        self.values[v] = r
        return r

    def key(self, pad: str, k) -> str:
        if type(k) is not str:
            raise _Fallback
        text = self.values.get(k) or self.string(k)
        if len(text[0].encode("utf-8")) > _MAX_SIMPLE_KEY:
            raise _Fallback
        prefix = self.keys[(pad, k)] = pad + text[0] + ":"
        return prefix

    def scalar_line(self, prefix: str, v) -> None:
        t = type(v)
        if t is str:
            text, folds = self.values.get(v) or self.string(v)
            line = prefix + " " + text
            if folds and len(line) > WIDTH:
                raise _Fallback
            self.out.append(line)
        elif t is int:
            self.out.append(prefix + " " + str(v))
        elif t is bool:
            self.out.append(prefix + (" true" if v else " false"))
        elif v is None:
            self.out.append(prefix + " null")
        else:
            raise _Fallback

    def mapping(self, d: dict, indent: int, first: str | None = None) -> None:
        """The pairs of ``d`` at ``indent``; the first line starts with ``first`` (a sequence
        item's "- ") when given."""
        if id(d) in self.seen:   # PyYAML would write an anchor and an alias
            raise _Fallback
        self.seen.add(id(d))
        pad = " " * indent
        keys, out, values = self.keys, self.out, self.values
        for k, v in d.items():
            if first is None:
                prefix = keys.get((pad, k)) or self.key(pad, k)
            else:
                prefix = first + self.key("", k)
                first = None
            t = type(v)
            if t is str:   # the common case, inline (scalar_line does the same)
                text, folds = values.get(v) or self.string(v)
                line = prefix + " " + text
                if folds and len(line) > WIDTH:
                    raise _Fallback
                out.append(line)
            elif t is dict:
                if v:
                    out.append(prefix)
                    self.mapping(v, indent + 2)
                else:
                    self.empty(v, prefix + " {}")
            elif t is list:
                if v:
                    out.append(prefix)
                    self.sequence(v, indent)
                else:
                    self.empty(v, prefix + " []")
            else:
                self.scalar_line(prefix, v)

    def sequence(self, items: list, indent: int, first: str | None = None) -> None:
        if id(items) in self.seen:
            raise _Fallback
        self.seen.add(id(items))
        pad = " " * indent
        for v in items:
            if first is None:
                prefix = pad + "-"
            else:
                prefix, first = first + "-", None
            t = type(v)
            if t is dict:
                if v:
                    self.mapping(v, indent + 2, prefix + " ")
                else:
                    self.empty(v, prefix + " {}")
            elif t is list:
                if v:
                    self.sequence(v, indent + 2, prefix + " ")
                else:
                    self.empty(v, prefix + " []")
            else:
                self.scalar_line(prefix, v)

    def empty(self, v, line: str) -> None:
        if id(v) in self.seen:   # an alias, even for an empty one
            raise _Fallback
        self.seen.add(id(v))
        self.out.append(line)


def dump(data) -> str | None:
    """``data`` as YAML (see the module docstring), or None: use PyYAML for this one."""
    if type(data) is not dict or not data:
        return None
    w = _Writer()
    try:
        w.mapping(data, 0)
    except (_Fallback, RecursionError):
        return None
    w.out.append("")
    return "\n".join(w.out)

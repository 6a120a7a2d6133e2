"""``json.dumps(obj, ensure_ascii=False, indent=2)``, byte for byte, at the C encoder's speed.

The standard library encodes with ``indent`` in pure Python (its C encoder only does compact
output): a bill of 10,000 systems (a million values) took seconds. Here the C encoder writes,
in one call each, every dict or list whose values are all scalars and every list of such
dicts (a bill's lines), with the newline and indentation as its item separator; only the
containers above them are walked in Python.

Why a separator can carry the layout: the encoder never writes a raw newline inside a string
(it escapes it), so each newline it writes is a separator we gave it, and in a list of flat
dicts the text ``},<newline><indent>{`` can only be the boundary between two of them."""
from __future__ import annotations

import json
from itertools import repeat
from json.encoder import c_make_encoder, encode_basestring
from operator import is_
from typing import Any, Callable

_SCALARS = (str, int, float, bool, type(None))
_SCALAR_TYPE = frozenset(_SCALARS).__contains__
_INDENT = "  "
_BY_LEVEL: dict[int, Any] = {}


def _no_default(o: Any) -> Any:
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _encoder(level: int):
    """Compact C encoding whose item separator is the newline and indentation of ``level``
    (json.JSONEncoder.encode builds a new C encoder on every call: too slow per line)."""
    enc = _BY_LEVEL.get(level)
    if enc is None:
        enc = _BY_LEVEL[level] = c_make_encoder(
            None, _no_default, encode_basestring, None, ": ", ",\n" + _INDENT * level,
            False, False, True)
    return enc


_SCALAR_C = _encoder(0)


def dumps(obj: Any, default: Callable[[Any], Any] | None = None) -> str:
    """What ``json.dumps(obj, ensure_ascii=False, indent=2, default=default)`` returns."""
    parts: list[str] = []
    _emit(obj, 0, parts, default, None)
    return "".join(parts)


def dump(obj: Any, write: Callable[[str], Any],
         default: Callable[[Any], Any] | None = None) -> None:
    """``dumps(obj)`` given to ``write`` (a text file's) a few thousand pieces at a time: a
    bill's text is not held whole in memory."""
    parts: list[str] = []

    def flush() -> None:
        write("".join(parts))
        parts.clear()
    _emit(obj, 0, parts, default, flush)
    flush()


def _flat(values) -> bool:
    """Are all ``values`` plain scalars (checked in C: a bill has a million of them)?"""
    return all(map(_SCALAR_TYPE, map(type, values)))


def _str_keys(d: dict) -> bool:
    return all(map(is_, repeat(str), map(type, d)))


def _records(items) -> bool:
    """A list of non-empty dicts with text keys and scalar values only?"""
    for d in items:
        if type(d) is not dict or not d or not _str_keys(d) or not _flat(d.values()):
            return False
    return True


def _scalar(v: Any) -> str:
    return "".join(_SCALAR_C(v, 0))


def _emit(obj: Any, level: int, parts: list[str], default, flush) -> None:
    out = parts.append
    t = type(obj)
    if t in _SCALARS:
        out(_scalar(obj))
        return
    inner, close = _INDENT * (level + 1), "\n" + _INDENT * level
    if isinstance(obj, dict):
        if not obj:
            out("{}")
        elif _flat(obj.values()) and _str_keys(obj):
            out("{\n" + inner + "".join(_encoder(level + 1)(obj, 0))[1:-1] + close + "}")
        else:       # runs of scalar items in one C call each, containers walked
            enc, sep, run = _encoder(level + 1), "{\n", {}
            for k, v in obj.items():
                if type(k) is str and type(v) in _SCALARS:
                    run[k] = v
                    continue
                if run:
                    out(sep + inner + "".join(enc(run, 0))[1:-1])
                    sep, run = ",\n", {}
                out(sep + inner + _key(k) + ": ")
                sep = ",\n"
                _emit(v, level + 1, parts, default, flush)
            if run:
                out(sep + inner + "".join(enc(run, 0))[1:-1])
            out(close + "}")
        return
    if isinstance(obj, (list, tuple)):
        if not obj:
            out("[]")
        elif _flat(obj):
            out("[\n" + inner + "".join(_encoder(level + 1)(obj, 0))[1:-1] + close + "]")
        elif _records(obj):
            deeper = _INDENT * (level + 2)
            body = "".join(_encoder(level + 2)(obj, 0))[2:-2].replace(
                "},\n" + deeper + "{", "\n" + inner + "},\n" + inner + "{\n" + deeper)
            out("[\n" + inner + "{\n" + deeper + body + "\n" + inner + "}" + close + "]")
        else:
            out("[\n")
            for i, v in enumerate(obj):
                if i:
                    out(",\n")
                out(inner)
                _emit(v, level + 1, parts, default, flush)
                if flush is not None and len(parts) > 4096:
                    flush()
            out(close + "]")
        return
    if isinstance(obj, (str, int, float)):    # subclasses (enums): as the encoder writes them
        out(_scalar(obj))
        return
    if default is None:
        raise TypeError(f"Object of type {t.__name__} is not JSON serializable")
    _emit(default(obj), level, parts, default, flush)


def _key(k: Any) -> str:
    """A dict key as json writes it: strings as they are; numbers, booleans and None as text."""
    if isinstance(k, str):
        return encode_basestring(k)
    if k is True or k is False or k is None:
        return encode_basestring(json.dumps(k))
    if isinstance(k, (int, float)):
        return encode_basestring(_scalar(k))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(k).__name__}")

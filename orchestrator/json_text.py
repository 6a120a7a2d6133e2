"""``json.dumps(obj, ensure_ascii=False, indent=2)``, byte for byte, at the C encoder's speed.

The standard library encodes with ``indent`` in pure Python (its C encoder only does compact
output): a bill of 10,000 systems (a million values) took seconds. Here every dict or list
whose values are all scalars, the bulk of any document (a bill's lines), goes through the C
encoder in one call, with the newline and indentation as its item separator; the containers
above them are walked in Python."""
from __future__ import annotations

import json
from itertools import repeat
from json.encoder import c_make_encoder, encode_basestring
from operator import is_
from typing import Any, Callable

_SCALARS = (str, int, float, bool, type(None))
_INDENT = "  "


def _encoder(level: int):
    """Compact C encoding whose item separator is the newline and indentation of ``level``
    (json.JSONEncoder.encode builds a new C encoder on every call: too slow per line)."""
    enc = _BY_LEVEL.get(level)
    if enc is None:
        enc = _BY_LEVEL[level] = c_make_encoder(
            None, _no_default, encode_basestring, None, ": ", ",\n" + _INDENT * level,
            False, False, True)
    return enc


def _no_default(o: Any) -> Any:
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


_BY_LEVEL: dict[int, Any] = {}
_SCALAR = json.JSONEncoder(ensure_ascii=False)


def dumps(obj: Any, default: Callable[[Any], Any] | None = None) -> str:
    """What ``json.dumps(obj, ensure_ascii=False, indent=2, default=default)`` returns."""
    parts: list[str] = []
    _emit(obj, 0, parts.append, default)
    return "".join(parts)


def dump(obj: Any, write: Callable[[str], Any],
         default: Callable[[Any], Any] | None = None) -> None:
    """``dumps(obj)`` given to ``write`` (a text file's) a few thousand pieces at a time: a
    bill's text is not held whole in memory."""
    parts: list[str] = []

    def add(piece: str) -> None:
        parts.append(piece)
        if len(parts) >= 4096:
            write("".join(parts))
            parts.clear()
    _emit(obj, 0, add, default)
    write("".join(parts))


_SCALAR_TYPE = frozenset(_SCALARS).__contains__


def _flat(values) -> bool:
    """Are all ``values`` plain scalars (checked in C: a bill has a million of them)?"""
    return all(map(_SCALAR_TYPE, map(type, values)))


def _str_keys(d: dict) -> bool:
    return all(map(is_, repeat(str), map(type, d)))


def _emit(obj: Any, level: int, out: Callable[[str], None], default) -> None:
    t = type(obj)
    if t in _SCALARS:
        out(_SCALAR.encode(obj))
        return
    inner, close = _INDENT * (level + 1), "\n" + _INDENT * level
    if isinstance(obj, dict):
        if not obj:
            out("{}")
        elif _flat(obj.values()) and _str_keys(obj):
            text = "".join(_encoder(level + 1)(obj, 0))
            out("{\n" + inner + text[1:-1] + close + "}")
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
                _emit(v, level + 1, out, default)
            if run:
                out(sep + inner + "".join(enc(run, 0))[1:-1])
            out(close + "}")
        return
    if isinstance(obj, (list, tuple)):
        if not obj:
            out("[]")
        elif _flat(obj):
            text = "".join(_encoder(level + 1)(obj, 0))
            out("[\n" + inner + text[1:-1] + close + "]")
        else:
            out("[\n")
            for i, v in enumerate(obj):
                if i:
                    out(",\n")
                out(inner)
                _emit(v, level + 1, out, default)
            out(close + "]")
        return
    if isinstance(obj, (str, int, float)):    # subclasses (enums): as the encoder writes them
        out(_SCALAR.encode(obj))
        return
    if default is None:
        raise TypeError(f"Object of type {t.__name__} is not JSON serializable")
    _emit(default(obj), level, out, default)


def _key(k: Any) -> str:
    """A dict key as json writes it: strings as they are; numbers, booleans and None as text."""
    if isinstance(k, str):
        return _SCALAR.encode(k)
    if k is True or k is False or k is None:
        return _SCALAR.encode(json.dumps(k))
    if isinstance(k, (int, float)):
        return _SCALAR.encode(_SCALAR.encode(k))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(k).__name__}")

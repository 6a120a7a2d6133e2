"""Reading input files (YAML/TOML) into models, turning every failure into field-level Issues."""
from __future__ import annotations

import difflib
import hashlib
import json
import re
import tomllib
import types
import typing
from datetime import date
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from .errors import InputError, Issue

M = TypeVar("M", bound=BaseModel)

try:  # libyaml is ~10x faster; compile of 10,000 approvals depends on it
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _BaseLoader = yaml.SafeLoader

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loading that refuses what PyYAML would silently accept or crash on."""

    def construct_mapping(self, node, deep=False):
        # A repeated key would silently replace the first one (a whole zone can vanish).
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = self.construct_object(key_node)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:  # unhashable: the base class reports it
                    continue
                if first is not key_node:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        f"duplicate key {key!r} (first on line {first.start_mark.line + 1})",
                        key_node.start_mark)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node):
        # 2026-13-01 looks like a date to YAML and raises a bare ValueError in datetime.
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark)


    # --- the fast path (first compile of 10,000 approvals: PyYAML's generic constructor and
    # resolver, in Python, were ~40% of it) ------------------------------------------------
    def resolve(self, kind, value, implicit):
        # Exactly BaseResolver.resolve for a scalar whose first character starts no implicit
        # tag (most names): the default str tag, without the generic lookups.
        if kind is yaml.ScalarNode and not self.yaml_path_resolvers and \
                (not implicit[0] or (value[:1] not in _IMPLICIT_FIRSTS and value != "")):
            return _STR_TAG
        return super().resolve(kind, value, implicit)

    def construct_document(self, node):
        """The plain trees approvals are (str keys, no aliases, merges or odd tags) built
        directly; anything else, or any error, by PyYAML's constructor from the start (so that
        its errors, in its order, are what is reported)."""
        try:
            return self._plain(node, set())
        except Exception:
            self.constructed_objects, self.recursive_objects = {}, {}
            self.state_generators, self.deep_construct = [], False
        return super().construct_document(node)

    def _plain(self, node, seen: set):
        t = type(node)
        tag = node.tag
        if t is yaml.ScalarNode:
            if tag == _STR_TAG:
                return node.value
            make = _PLAIN_SCALARS.get(tag)
            if make is None:
                raise _NotPlain
            return make(self, node)
        if id(node) in seen:      # an alias: shared (or recursive) data, the generic path
            raise _NotPlain
        seen.add(id(node))
        if t is yaml.SequenceNode and tag == _SEQ_TAG:
            return [self._plain(n, seen) for n in node.value]
        if t is yaml.MappingNode and tag == _MAP_TAG:
            out: dict = {}
            for key_node, value_node in node.value:
                if type(key_node) is not yaml.ScalarNode or key_node.tag == _MERGE_TAG:
                    raise _NotPlain
                key = self._plain(key_node, seen)
                if key in out:   # a duplicate: construct_mapping reports it
                    raise _NotPlain
                out[key] = self._plain(value_node, seen)
            return out
        raise _NotPlain


class _NotPlain(Exception):
    pass


_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_IMPLICIT_FIRSTS = frozenset(_Loader.yaml_implicit_resolvers)
assert None not in _IMPLICIT_FIRSTS   # (a wildcard resolver would apply to every value)
_PLAIN_SCALARS = {"tag:yaml.org,2002:int": _BaseLoader.construct_yaml_int,
                  "tag:yaml.org,2002:bool": _BaseLoader.construct_yaml_bool,
                  "tag:yaml.org,2002:null": _BaseLoader.construct_yaml_null,
                  "tag:yaml.org,2002:timestamp": _Loader.construct_yaml_timestamp}
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)

# Discriminator tags pydantic puts into error locations of tagged unions.
_UNION_PARENTS = {"term", "provisions"}
_PATH_PREFIX = re.compile(r"^([a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*): (.*)$", re.S)


def read_yaml(path: Path, display: str | None = None, cache: "ParseCache | None" = None) -> Any:
    """The YAML document in ``path``. With ``cache``, bytes parsed before (the same SHA-256)
    give the data they gave then, without parsing; only what parsed cleanly is remembered, so
    every error is found and reported by the parser as without it."""
    return read_yaml_entry(path, display, cache)[0]


def read_yaml_entry(path: Path, display: str | None = None,
                    cache: "ParseCache | None" = None) -> tuple[Any, str | None, bool]:
    """(data, SHA-256 of the bytes or None without ``cache``, whether the data is a cache entry
    whose text was checked by the code of this run: ``ParseCache.text_checked``)."""
    display = display or str(path)
    try:
        raw = read_bounded(path, display)
        key = None
        if cache is not None:
            key = hashlib.sha256(raw).hexdigest()
            hit = cache.get(key)
            if hit is not _MISS:
                return hit, key, cache.text_checked
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise InputError(display, [Issue("", "file not found")])
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(display, [Issue(f"line {line}", f"not UTF-8 text ({exc.reason} at byte "
                                         f"{exc.start}); save the file as UTF-8 (it may be GBK)")])
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(display, [Issue(where, f"not valid YAML: {problem}")])
    except RecursionError:
        raise InputError(display, [Issue("", "nested too deeply to be a govcloud input")]) from None
    if "*" in text:   # aliases: bound what they expand to (a billion-laughs document)
        _bound_expansion(data, display)
    if key is not None:
        cache.put(key, data)
    return data, key, False


MAX_INPUT_BYTES = 16 * 1024 * 1024      # no approval, catalog or profile comes near it
MAX_EXPANDED_NODES = 200_000              # values after expanding YAML aliases


def read_bounded(path: Path, display: str, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``limit`` bytes: a FIFO
    would block forever and /dev/zero would never end. Opened without blocking, checked with
    fstat on the descriptor it then reads (no swap in between)."""
    import os
    import stat
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        raise InputError(display, [Issue("", "a directory, not a file")]) from None
    except FileNotFoundError:
        if os.path.islink(path):
            raise InputError(display, [Issue("", f"a symlink that leads nowhere "
                                                 f"({os.readlink(path)})")]) from None
        raise
    except OSError as exc:   # permissions, a symlink loop (ELOOP), a name too long...
        raise InputError(display, [Issue("", f"cannot be read: {exc.strerror or exc}")]) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):   # (Linux opens a directory read-only without EISDIR)
            raise InputError(display, [Issue("", "a directory, not a file")])
        if not stat.S_ISREG(st.st_mode):
            raise InputError(display, [Issue("", "not a regular file (a FIFO, a device or a "
                                                 "socket): refused, only files are read")])
        if st.st_size > limit:
            raise InputError(display, [Issue("", f"{st.st_size} bytes, over the limit of {limit}")])
        with os.fdopen(fd, "rb", closefd=False) as f:
            # What fstat said, and more only if it grew since (not a 16 MB buffer per file).
            want = min(limit, st.st_size) + 1
            raw = f.read(want)
            if len(raw) == want and want <= limit:
                raw += f.read(limit + 1 - want)
        if len(raw) > limit:
            raise InputError(display, [Issue("", f"over the limit of {limit} bytes")])
        return raw
    finally:
        os.close(fd)


def _bound_expansion(data: Any, display: str) -> None:
    """Refuse data whose aliases expand past MAX_EXPANDED_NODES values (counted as a walk of
    the expanded tree would meet them, stopping at the limit: a billion laughs is refused in
    milliseconds)."""
    count = 0
    stack = [data]
    while stack:
        v = stack.pop()
        count += 1
        if count > MAX_EXPANDED_NODES:
            raise InputError(display, [Issue("", f"YAML aliases expand to over "
                                                 f"{MAX_EXPANDED_NODES} values (a "
                                                 f"'billion laughs' document?): refused")])
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)


_MISS = object()
_DATE_TAG = "$date"


class _Uncachable(Exception):
    pass


def _encode(v: Any) -> Any:
    t = type(v)
    if t is dict:
        if _DATE_TAG in v:
            raise _Uncachable
        out = {}
        for k, x in v.items():
            if type(k) is not str:
                raise _Uncachable
            out[k] = _encode(x)
        return out
    if t is list:
        return [_encode(x) for x in v]
    if t is str or t is int or t is bool or v is None:
        return v
    if t is date:
        return {_DATE_TAG: v.isoformat()}
    raise _Uncachable   # floats, datetimes, binary, sets...: parsed each time


def _decode_object(d: dict) -> Any:
    if len(d) == 1 and _DATE_TAG in d:
        return date.fromisoformat(d[_DATE_TAG])
    return d


class ParseCache:
    """What YAML files parsed to, by the SHA-256 of their bytes, kept in one JSON file (dates
    tagged). Reading 10,000 approvals with the YAML parser took longer than everything else
    `govcloud compile` does once its output is known; unchanged files are not parsed again.
    Entries not used by a run are dropped when it saves.

    The file is one JSON document written one entry per line (``"SHA":DATA``), so that a run
    keeps each entry's text, decodes only the entries it reads and writes the unchanged ones
    back as they were: decoding and encoding the whole cache again was ~0.5 s of a compile of
    10,000 approvals with one touched. A file in another layout is decoded whole."""

    FORMAT = "govcloud-parse-cache/1"

    def __init__(self, path: Path, read_only: bool = False, checked_by: str | None = None):
        """``read_only``: never saved, and each entry is let go once it was read (the data of
        10,000 approvals is not held until the last one is validated).

        ``checked_by``: a digest of the code (and library versions) of this run. The one
        writer, `compile`, saves only after every file it read validated, so a cache saved
        under the same digest holds only data whose texts this code's model checks passed
        (``text_checked``: validated again with models.base.TEXT_CHECKED). Saved with it."""
        self.path = path
        self.read_only = read_only
        self.checked_by = checked_by
        self.text_checked = False
        self.entries: dict[str, str] = {}     # SHA -> the entry's JSON text
        self.used: dict[str, str] = {}
        self.dirty = False
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, ValueError):
            return
        head = self._by_lines(text)
        if head is None:
            head = self._whole(text)
        if head is not None:
            self.text_checked = checked_by is not None and head.get("checked_by") == checked_by

    def _by_lines(self, text: str) -> dict | None:
        """The layout save() writes: a header line, one line per entry, a closing line."""
        lines = text.split("\n")
        if len(lines) < 2 or lines[-1] != "}}" or not lines[0].endswith(',"entries":{'):
            return None
        try:
            head = json.loads(lines[0][:-len(',"entries":{')] + "}")
        except ValueError:
            return None
        if not isinstance(head, dict) or head.get("format") != self.FORMAT:
            return None
        entries = {}
        body = lines[1:-1]
        for i, line in enumerate(body):
            if i < len(body) - 1:
                if not line.endswith(","):
                    return None
                line = line[:-1]
            if len(line) < 68 or line[0] != '"' or line[65:67] != '":':
                return None
            entries[line[1:65]] = line[67:]
        self.entries = entries
        return head

    def _whole(self, text: str) -> dict | None:
        try:
            raw = json.loads(text)
            if isinstance(raw, dict) and raw.get("format") == self.FORMAT and \
                    isinstance(raw.get("entries"), dict):
                self.entries = {k: json.dumps(v, ensure_ascii=False, separators=(",", ":"))
                                for k, v in raw["entries"].items() if isinstance(k, str)}
                return raw
        except (ValueError, TypeError):
            pass
        return None

    def get(self, key: str) -> Any:
        if self.read_only:
            text = self.entries.pop(key, None)    # a second file of the same bytes: parsed
        else:
            text = self.entries.get(key)
        if text is None:
            return _MISS
        try:
            data = json.loads(text, object_hook=_decode_object)
        except (ValueError, RecursionError):   # a damaged line: parsed again (and rewritten)
            self.entries.pop(key, None)
            return _MISS
        if not self.read_only:
            self.used[key] = text
        return data

    def put(self, key: str, data: Any) -> None:
        if self.read_only:
            return
        try:
            text = json.dumps(_encode(data), ensure_ascii=False, separators=(",", ":"))
        except (_Uncachable, RecursionError):
            return
        self.used[key] = text
        self.dirty = True

    def save(self) -> None:
        if self.read_only:
            return
        if not self.dirty and len(self.used) == len(self.entries) and \
                (self.text_checked or self.checked_by is None):
            return
        head = json.dumps({"format": self.FORMAT, "checked_by": self.checked_by},
                          separators=(",", ":"))
        body = ",\n".join(f'"{k}":{v}' for k, v in self.used.items())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(f'{head[:-1]},"entries":{{\n{body}\n}}}}', encoding="utf-8")
        tmp.replace(self.path)


def read_toml(path: Path, display: str | None = None) -> dict:
    display = display or str(path)
    try:
        raw = read_bounded(path, display)
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(display, [Issue(f"line {line}", f"not UTF-8 text ({exc.reason} at byte "
                                         f"{exc.start}); save the file as UTF-8 (it may be GBK)")])
    except FileNotFoundError:
        raise InputError(display, [Issue("", "file not found")],
                         fix="run `govcloud init DIR` to create a workspace, or pass -C DIR")
    except tomllib.TOMLDecodeError as exc:
        raise InputError(display, [Issue("", f"not valid TOML: {exc}")])
    except RecursionError:   # tomllib parses nested arrays recursively
        raise InputError(display, [Issue("", "nested too deeply to be a govcloud input")]) from None


def parse(model: type[M], data: Any, display: str, context: Any = None) -> M:
    """``context``: pydantic's validation context (models.base.TEXT_CHECKED for data whose
    texts were checked before)."""
    if data is None:
        raise InputError(display, [Issue("", "the file is empty: expected a mapping of fields")])
    if not isinstance(data, dict):
        raise InputError(display, [Issue("", f"expected a mapping at the top level, got "
                                             f"{type(data).__name__}")])
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise InputError(display, _name_items(issues_from(exc, model), data)) from None


def _name_items(issues: list[Issue], data: dict) -> list[Issue]:
    """``items[29]`` means little in a long catalog: say which item it is."""
    items = data.get("items")
    if not isinstance(items, list):
        return issues
    out = []
    for issue in issues:
        m = re.match(r"items\[(\d+)\]", issue.path)
        item = items[int(m.group(1))] if m and int(m.group(1)) < len(items) else None
        code = item.get("code") if isinstance(item, dict) else None
        if isinstance(code, str) and code and code not in issue.message:
            issue = Issue(issue.path, f"{issue.message} (item {code})")
        out.append(issue)
    return out


def load(model: type[M], path: Path, display: str | None = None) -> M:
    display = display or str(path)
    reader = read_toml if path.suffix == ".toml" else read_yaml
    return parse(model, reader(path, display), display)


def issues_from(exc: ValidationError, model: type[BaseModel]) -> list[Issue]:
    issues = []
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        loc = [p for i, p in enumerate(loc) if not (i > 0 and loc[i - 1] in _UNION_PARENTS)]
        if loc and loc[-1] == "[key]":
            loc = loc[:-1]
        path = format_path(loc)
        msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        m = _PATH_PREFIX.match(msg)
        if m:  # a model validator that names the field inside its own message
            path = f"{path}.{m.group(1)}" if path else m.group(1)
            msg = m.group(5)
        if err["type"] == "extra_forbidden":
            allowed = _fields_at(model, list(err["loc"])[:-1])
            msg = f"unknown field {str(loc[-1])!r}"
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            if close:
                msg += f" (did you mean {close[0]!r}?)"
            elif allowed:
                msg += f" (allowed: {', '.join(sorted(allowed))})"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            tag = err["ctx"]["discriminator"].strip("'")
            path = f"{path}.{tag}" if path else tag
            expected = err["ctx"].get("expected_tags", "").replace("'", "")
            msg = ("required field is missing" if err["type"] == "union_tag_not_found" else
                   f"{err['ctx']['tag']!r} is not a known {tag} (use one of: {expected})")
        issues.append(Issue(path, msg))
    return issues


def format_path(loc: list) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _fields_at(model: Any, loc: list) -> list[str]:
    """Field names of the model found by walking ``loc`` from ``model`` (best effort)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current, part)
        if current is None:
            return []
    current = _unwrap(current, None)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(tp: Any, part: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is typing.Annotated:
            tp = get_args(tp)[0]
            continue
        if origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if isinstance(part, str):
                for a in args:  # tagged union: the tag names the member
                    if isinstance(a, type) and issubclass(a, BaseModel) and part in a.model_fields:
                        return a.model_fields[part].annotation
                    kind = getattr(a, "model_fields", {}).get("kind")
                    if kind is not None and part in get_args(kind.annotation):
                        return a
            tp = args[0] if args else None
            continue
        break
    if part is None:
        return tp
    origin = get_origin(tp)
    if origin in (list, tuple) and isinstance(part, int):
        return get_args(tp)[0]
    if origin is dict:
        return get_args(tp)[1]
    if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
        f = tp.model_fields.get(part)
        return f.annotation if f else None
    return None

"""Reading input files (YAML/TOML) into models, turning every failure into field-level Issues."""
from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from .errors import InputError, Issue
from .parse_cache import MISS as _MISS, ParseCache  # noqa: F401  (ParseCache: re-exported)

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


def read_yaml(path: Path, display: str | None = None, cache: ParseCache | None = None) -> Any:
    """The YAML document in ``path``. With ``cache``, bytes parsed before (the same SHA-256)
    give the data they gave then, without parsing; only what parsed cleanly is remembered, so
    every error is found and reported by the parser as without it."""
    return read_yaml_entry(path, display, cache)[0]


def read_yaml_entry(path: Path, display: str | None = None,
                    cache: ParseCache | None = None) -> tuple[Any, str | None, bool]:
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

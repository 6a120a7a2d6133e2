"""The approval parse cache (``.govcloud/approval-parse-cache.json``): what YAML files parsed
to, by the SHA-256 of their bytes (read through orchestrator/inputs.py read_yaml)."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

MISS = object()
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
            return MISS
        try:
            data = json.loads(text, object_hook=_decode_object)
        except (ValueError, RecursionError):   # a damaged line: parsed again (and rewritten)
            self.entries.pop(key, None)
            return MISS
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

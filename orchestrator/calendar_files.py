"""Loading the working-day calendar from ``cn-<year>.yaml`` files (see :mod:`orchestrator.core.workdays`):
the shipped ones, then a workspace's own (``workspace_calendar``).

File schema (one year per file, named after its year)::

    year: 2026
    source: "国务院办公厅关于2026年部分节假日安排的通知 (国办发明电〔2025〕7号)"
    holidays:            # days off, weekend days inside a block included; from/to inclusive
      - {name: 元旦, en: New Year's Day, from: 2026-01-01, to: 2026-01-03}
    makeup_workdays:     # 调休: weekend days that are worked ([] when there are none)
      - {date: 2026-01-04, for: 元旦}

Directories are read in order and a later directory's file replaces an earlier one's for the
same year, so a workspace can add next year's schedule (or correct one) without touching the
shipped ``catalog/calendar``.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Iterable

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from .errors import InputError, Issue
from .inputs import issues_from, read_yaml
from .core.workdays import HolidayBlock, MakeupDay, WorkCalendar, YearCalendar, validate_year

FILE_RE = re.compile(r"^cn-(\d{4})\.yaml$")
# Files that look meant as calendar files but are misnamed (cn-27.yaml, cn-2027.yml, CN-2027.yaml).
_NEAR_MISS_RE = re.compile(r"^cn[-_].*\.ya?ml$", re.I)


class CalendarFileError(InputError):
    """A calendar file cannot be used; ``errors`` are "field: message" strings."""

    def __init__(self, path: Path | str, errors: list[str]):
        self.path = Path(path)
        self.errors = list(errors)
        super().__init__(str(path), [_issue(e) for e in self.errors],
                         fix="correct the file against the State Council notice it cites")


def _issue(text: str) -> Issue:
    field_path, sep, message = text.partition(": ")
    if sep and " " not in field_path:
        return Issue(field_path, message)
    return Issue("", text)


def _strict_date(v: Any) -> Any:
    """A YAML date (2026-01-04) or an ISO string "2026-01-04"; never a number or a timestamp."""
    if isinstance(v, date) and not hasattr(v, "hour"):
        return v
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v.strip()):
        try:
            return date.fromisoformat(v.strip())
        except ValueError as exc:
            raise ValueError(f"{v!r} is not a valid date: {exc}") from None
    raise ValueError(f"expected a date written YYYY-MM-DD, got {v!r}")


Day = Annotated[date, BeforeValidator(_strict_date)]
Text = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HolidayBlockModel(_Model):
    name: Text
    en: str = ""
    from_: Day = Field(alias="from")
    to: Day


class MakeupDayModel(_Model):
    date: Day
    for_: Text = Field(alias="for")


class CalendarFileModel(_Model):
    year: int = Field(ge=1949, le=9999)
    source: Text
    provisional: bool = False
    holidays: list[HolidayBlockModel] = Field(min_length=1)
    makeup_workdays: list[MakeupDayModel]


def default_calendar_dir() -> Path:
    """The shipped ``catalog/calendar`` directory of this checkout / installation."""
    return Path(__file__).resolve().parent.parent / "catalog" / "calendar"


def parse_calendar_file(data: Any, path: Path | str) -> YearCalendar:
    """Validate already-read YAML data of ``path`` (its name gives the expected year)."""
    path = Path(path)
    m = FILE_RE.match(path.name)
    if not m:
        raise CalendarFileError(path, [f"file name must be cn-<4-digit year>.yaml, got {path.name!r}"])
    if not isinstance(data, dict):
        got = "an empty file" if data is None else type(data).__name__
        raise CalendarFileError(path, [f"expected a mapping at the top level, got {got}"])
    try:
        model = CalendarFileModel.model_validate(data)
    except ValidationError as exc:
        raise CalendarFileError(path, [str(i) for i in issues_from(exc, CalendarFileModel)]) from None
    file_year = int(m.group(1))
    if model.year != file_year:
        raise CalendarFileError(path, [f"year: {model.year} does not match the file name "
                                       f"{path.name} (expected year: {file_year})"])
    blocks = [HolidayBlock(name=h.name, en=h.en, start=h.from_, end=h.to) for h in model.holidays]
    makeup = [MakeupDay(date=w.date, for_=w.for_) for w in model.makeup_workdays]
    errors = validate_year(model.year, blocks, makeup)
    if errors:
        raise CalendarFileError(path, errors)
    return YearCalendar.from_blocks(model.year, blocks, makeup, source=model.source,
                                    provisional=model.provisional)


def load_calendar_file(path: Path) -> YearCalendar:
    try:
        data = read_yaml(path, str(path))
    except InputError as exc:  # not found / not UTF-8 / not YAML
        raise CalendarFileError(path, [str(i) for i in exc.issues]) from None
    return parse_calendar_file(data, path)


def calendar_files(directory: Path) -> list[Path]:
    """The ``cn-<year>.yaml`` files of one directory, sorted; raises on misnamed look-alikes."""
    found = []
    for p in sorted(directory.iterdir()):
        if not p.is_file():
            continue
        if FILE_RE.match(p.name):
            found.append(p)
        elif _NEAR_MISS_RE.match(p.name):
            raise CalendarFileError(p, [f"file name must be cn-<4-digit year>.yaml (e.g. cn-2027.yaml), "
                                        f"got {p.name!r}"])
    return found


def load_calendar(dirs: Iterable[Path | str]) -> WorkCalendar:
    """Read every ``cn-<year>.yaml`` in ``dirs``; a later directory overrides an earlier one for
    the same year. A directory that does not exist is skipped (a workspace need not have one);
    a path that exists but is not a directory is an error. The first unusable file raises
    :class:`CalendarFileError` naming the file and the field."""
    by_year: dict[int, YearCalendar] = {}
    for d in dirs:
        d = Path(d)
        if not d.exists():
            continue
        if not d.is_dir():
            raise CalendarFileError(d, ["not a directory (expected a directory of cn-<year>.yaml files)"])
        for path in calendar_files(d):
            year = load_calendar_file(path)
            by_year[year.year] = year
    return WorkCalendar(tuple(by_year.values()))


def calendar_dirs(workspace_root: Path | None) -> list[Path]:
    """The shipped catalog/calendar, then the workspace's (which overrides or adds years)."""
    dirs = [default_calendar_dir()]
    if workspace_root is not None:
        dirs.append(workspace_root / "catalog" / "calendar")
    return dirs


def workspace_calendar(workspace_root: Path | None) -> WorkCalendar:
    """The working-day calendar a workspace's deadlines are counted in (None: the shipped one)."""
    return load_calendar(calendar_dirs(workspace_root))


# --- writing: `govcloud calendar import` / `calendar provisional` ------------------------------
_WEEKDAY_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _scalar(text: str) -> str:
    """A flow-mapping value: plain when YAML reads it back as the same string, else quoted."""
    if text and not re.search(r"[{}\[\],:#&*!|>'\"%@`]", text) and text.strip() == text:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_calendar_file(year: YearCalendar, origin: list[str], notes: dict[str, str] | None = None) -> str:
    """The canonical ``cn-<year>.yaml`` text for ``year`` (what ``calendar import`` writes and the
    shipped files are); ``origin`` lines become the header comment."""
    notes = notes or {}
    out = [f"# PRC working-day calendar for {year.year} (read by orchestrator/calendar_files.py)."]
    out += [f"# {line}" for line in origin]
    out += ["# Edit only from an official notice; a year without a file is an error, never a guess.",
            f"year: {year.year}", f"source: {_scalar(year.source)}"]
    if year.provisional:
        out.append("provisional: true   # NOT the State Council's schedule: every result says so")
    out.append("holidays:            # days off, weekend days inside a block included; from/to inclusive")
    rows = []
    for b in year.blocks:
        en = f", en: {_scalar(b.en)}" if b.en else ""
        n = (b.end - b.start).days + 1
        note = f"{n} day{'s' if n != 1 else ''}" + (f"; {notes[b.name]}" if b.name in notes else "")
        rows.append((f"  - {{name: {_scalar(b.name)}{en}, from: {b.start}, to: {b.end}}}", note))
    out += _aligned(rows)
    if not year.makeup_days:
        out.append("makeup_workdays: []  # 调休: none this year")
    else:
        out.append("makeup_workdays:     # 调休: weekend days that are worked")
        out += _aligned([(f"  - {{date: {m.date}, for: {_scalar(m.for_)}}}", _WEEKDAY_EN[m.date.weekday()])
                         for m in year.makeup_days])
    return "\n".join(out) + "\n"


def _aligned(rows: list[tuple[str, str]]) -> list[str]:
    width = max(len(r) for r, _ in rows) + 2
    return [f"{r:<{width}}# {c}" for r, c in rows]


def read_notice(path: Path) -> str:
    """The pasted text of a State Council notice (UTF-8; GBK is refused with a hint)."""
    try:
        return Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError(str(path), [Issue("", "file not found")]) from None
    except UnicodeDecodeError:
        raise InputError(str(path), [Issue("", "not UTF-8 text; save the pasted notice as UTF-8 "
                                           "(it may be GBK)")]) from None


def write_calendar_year(dest_dir: Path, year: YearCalendar, text: str, force: bool,
                        kind: str) -> dict[str, Any]:
    """Write ``cn-<year>.yaml`` into ``dest_dir`` (atomically) unless it already holds ``text``.
    An official file with a different schedule is replaced only with ``force``; a provisional
    one is replaced by an import; a provisional calendar never replaces an official file."""
    path = Path(dest_dir) / f"cn-{year.year}.yaml"
    replaced = None
    if path.exists():
        if path.read_text(encoding="utf-8") == text:
            return {"file": str(path), "written": False, "replaced": None}
        try:
            old = load_calendar_file(path)
            replaced = "provisional" if old.provisional else "official"
            same = old.holidays == year.holidays and old.makeup == year.makeup
        except CalendarFileError:
            old, replaced, same = None, "invalid", False
        if kind == "provisional" and replaced == "official":
            raise InputError(str(path), [Issue("provisional", f"holds the State Council's schedule "
                                               f"for {year.year}; a provisional calendar never "
                                               "replaces it")], fix="keep the official file")
        if replaced == "official" and not same and not force:
            gone = sorted((old.holidays ^ year.holidays) | (old.makeup ^ year.makeup))
            raise InputError(str(path), [Issue("holidays", f"already holds a different {year.year} "
                                               "schedule (the days " + ", ".join(map(str, gone[:8]))
                                               + ("…" if len(gone) > 8 else "") + " differ)")],
                             fix="check the notice; to replace the file run again with --force")
    Path(dest_dir).mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    load_calendar_file(path)    # what was written reads back (raises naming the field)
    return {"file": str(path), "written": True, "replaced": replaced}

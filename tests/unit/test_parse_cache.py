"""The approval parse cache skips YAML parsing of unchanged bytes, and never hides a change or
an error: every file is still validated, and broken files are parsed (and reported) each time."""
import datetime as dt
import json

import pytest

from orchestrator.errors import GovcloudError, InputError
from orchestrator.inputs import ParseCache, read_yaml
from orchestrator.clock import today
from orchestrator.usecases.compile import compile_workspace
from orchestrator.usecases.validate import validate
from orchestrator.workspace import Workspace


def test_second_read_comes_from_the_cache_and_equals_the_parse(ws):
    w = Workspace.at(ws)
    first = w.load_approvals()
    assert not w.parse_cache_path.exists()   # only compile writes it
    compile_workspace(w, today())
    assert w.parse_cache_path.is_file()
    cache = json.loads(w.parse_cache_path.read_text())
    assert len(cache["entries"]) == len(first)
    again = Workspace.at(ws).load_approvals()
    assert again == first
    w.parse_cache_path.unlink()
    assert Workspace.at(ws).load_approvals() == first


def test_dates_and_types_round_trip(tmp_path):
    f = tmp_path / "a.yaml"
    f.write_text("d: 2026-01-31\nn: 3\nb: true\nz: null\ns: '2026-01-31'\nl: [1, x, {k: v}]\n"
                 "u: 政务\n", encoding="utf-8")
    cache = ParseCache(tmp_path / "c.json")
    parsed = read_yaml(f, "a.yaml", cache)
    cache.save()
    hit = read_yaml(f, "a.yaml", ParseCache(tmp_path / "c.json"))
    assert hit == parsed
    assert hit["d"] == dt.date(2026, 1, 31) and hit["s"] == "2026-01-31"
    assert [type(v) for v in hit.values()] == [type(v) for v in parsed.values()]


def test_uncachable_values_are_parsed_each_time(tmp_path):
    f = tmp_path / "a.yaml"
    f.write_text("x: 1.5\nt: 2026-01-31 10:00:00\n$date: no\n", encoding="utf-8")
    cache = ParseCache(tmp_path / "c.json")
    assert read_yaml(f, "a.yaml", cache)["x"] == 1.5
    cache.save()
    assert not (tmp_path / "c.json").exists() or \
        json.loads((tmp_path / "c.json").read_text())["entries"] == {}


def test_an_edited_file_is_parsed_again(ws):
    w = Workspace.at(ws)
    compile_workspace(w, today())
    path = sorted((ws / "approvals").glob("*.yaml"))[0]
    path.write_text(path.read_text(encoding="utf-8") + "\nunknown_field: 1\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        validate(Workspace.at(ws), today())
    assert "unknown field 'unknown_field'" in exc.value.issues[0].message


def test_broken_files_report_the_same_errors_with_a_cache(ws):
    path = ws / "approvals" / "dup.yaml"
    path.write_text("approval_no: X-1\napproval_no: X-2\n", encoding="utf-8")
    messages = []
    for warm in (False, True):   # without, then with a cache of the good files
        if warm:
            path.rename(path.with_suffix(".off"))
            compile_workspace(Workspace.at(ws), today())
            path.with_suffix(".off").rename(path)
        with pytest.raises(GovcloudError) as exc:
            Workspace.at(ws).load_approvals()
        messages.append((str(exc.value), [(i.path, i.message) for i in exc.value.issues]))
    assert messages[0] == messages[1]
    assert "duplicate key 'approval_no'" in messages[0][1][0][1]


def test_a_damaged_cache_is_ignored(ws):
    w = Workspace.at(ws)
    compile_workspace(w, today())
    first = w.load_approvals()
    w.parse_cache_path.write_text("{not json", encoding="utf-8")
    assert Workspace.at(ws).load_approvals() == first
    w.parse_cache_path.write_text(json.dumps({"format": "other", "entries": {}}), encoding="utf-8")
    assert Workspace.at(ws).load_approvals() == first


def test_a_read_only_cache_gives_the_same_data_lets_go_and_never_saves(ws):
    """bill reads the cache read-only: each entry is dropped once read (the data of 10,000
    approvals is not all held until the last is validated), two files of the same bytes still
    give the same data (the second is parsed), and nothing is written."""
    w = Workspace.at(ws)
    compile_workspace(w, today())
    first = w.load_approvals()
    files = w.approval_files()
    twin = files[0].with_name("ZZ-twin.yaml")
    twin.write_bytes(files[0].read_bytes())          # same bytes, same cache key
    before = w.parse_cache_path.read_bytes()
    ro = ParseCache(w.parse_cache_path, read_only=True)
    n = len(ro.entries)
    datas = [read_yaml(p, w.rel(p), ro) for p in sorted(files) + [twin]]
    assert datas[-1] == datas[0] and len(ro.entries) == n - len(files) == 0
    assert [read_yaml(p, w.rel(p)) for p in sorted(files)] == datas[:-1]
    ro.put("x", {"a": 1})
    ro.save()
    assert w.parse_cache_path.read_bytes() == before and not ro.used
    twin.unlink()
    assert w.load_approvals(ParseCache(w.parse_cache_path, read_only=True)) == first


def test_entries_are_lines_kept_as_written_and_other_layouts_are_read(tmp_path):
    files = []
    for i, body in enumerate(["d: 2026-01-31\n", "s: 'x\u2028y'\nn: 1\n", "l: [a, {k: v}]\n"]):
        files.append(tmp_path / f"{i}.yaml")
        files[-1].write_text(body, encoding="utf-8")
    cache = ParseCache(tmp_path / "c.json", checked_by="code")
    parsed = [read_yaml(f, f.name, cache) for f in files]
    cache.save()
    text = (tmp_path / "c.json").read_text(encoding="utf-8")
    assert len(text.split("\n")) == 3 + 2 and json.loads(text)["checked_by"] == "code"
    again = ParseCache(tmp_path / "c.json", checked_by="code")
    assert again.text_checked and [read_yaml(f, f.name, again) for f in files] == parsed
    files[1].write_text("s: changed\n", encoding="utf-8")
    assert read_yaml(files[1], "1.yaml", again) == {"s": "changed"}
    again.save()
    lines = (tmp_path / "c.json").read_text(encoding="utf-8").split("\n")
    assert lines[1] == text.split("\n")[1] and lines[3] == text.split("\n")[3] + ","
    # a cache written whole (one line, as before) is read; another code digest is not trusted
    (tmp_path / "c.json").write_text(json.dumps(json.loads(text)), encoding="utf-8")
    whole = ParseCache(tmp_path / "c.json", checked_by="other code")
    assert not whole.text_checked and read_yaml(files[0], "0.yaml", whole) == parsed[0]

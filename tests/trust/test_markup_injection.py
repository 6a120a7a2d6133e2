"""Markup injection: hostile names in the HTML and Markdown certificates and in the
merge-request plan summary stay text.

The Markdown is rendered as GitLab/GitHub would (markdown-it with raw HTML enabled and GFM
tables); the HTML is parsed. Negative controls: the same hostile values through an unescaped
environment (what shipped before) do produce live markup, so the checks can fail.
"""
from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markdown_it import MarkdownIt

from orchestrator.certificate import record, write_certificate
from orchestrator.cli.render import plan_markdown
from orchestrator.markup import md_code, md_text
from orchestrator.models.plan import Action, ActionKind, Plan
from orchestrator.workspace import PACKAGE_ROOT, Workspace

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "a | b | c",
    "[click](javascript:alert(1))",
    "<javascript:alert(1)>",
    "**bold** _it_ `code` ~~gone~~",
    "line one\n| injected | row |",
    "`` ` ``",
    "JaVaScRiPt :alert(1)",
]


def render_md(text: str) -> str:
    """As the most permissive renderer would: raw HTML on, every link scheme allowed
    (markdown-it's own javascript: filter is switched off so that only our escaping counts)."""
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.validateLink = lambda url: True
    return md.render(text)


class _Scan(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v or "") for k, v in attrs]

    def handle_data(self, data):
        self.text.append(data)


def scan(html: str) -> _Scan:
    s = _Scan()
    s.feed(html)
    return s


def live(html: str) -> list[str]:
    """Live markup the hostile values could have produced."""
    s = scan(html)
    bad = [t for t in s.tags if t in ("script", "img", "a", "iframe", "strong", "em", "del")]
    bad += [f"{t} {k}={v}" for t, k, v in s.attrs if k.startswith("on") or
            "javascript" in v.lower().replace(" ", "")]
    return bad


@pytest.mark.parametrize("value", HOSTILE)
def test_md_text_is_literal_text_in_a_table_cell(value):
    out = render_md(f"| a | b |\n|---|---|\n| {md_text(value)} | {md_code(value)} |\n")
    assert live(out) == [], out
    assert out.count("<td>") == 2 and out.count("<tr>") == 2, out   # no cell or row injected
    flat = " ".join(value.split())
    assert flat in "".join(scan(out).text).replace("\n", " ") or value.startswith("`"), out


def _doc(hostile: str) -> dict:
    return {"stack": "edu/x", "department": {"name": hostile, "code": "edu"},
            "system": {"name": hostile, "dengbao_level": 2}, "approvals": [hostile],
            "started": "2026-01-01", "offline_on": "2026-01-02",
            "media": [{"id": hostile, "kind": "volume", "address": hostile, "path": "/x",
                       "size_bytes": 1, "wipe": {"technique": hostile},
                       "verification": {"method": hostile, "result": "pass"}}]}


@pytest.mark.parametrize("value", HOSTILE)
def test_certificates_escape_hostile_names(ws, value):
    w = Workspace.at(ws)
    files = write_certificate(w, _doc(value), dt.date(2026, 1, 3), value, value, "0")
    html = files["html"].read_text(encoding="utf-8")
    md = render_md(files["md"].read_text(encoding="utf-8"))
    clean = write_certificate(w, _doc("harmless"), dt.date(2026, 1, 4), "a", "b", "0")
    clean_html = clean["html"].read_text(encoding="utf-8")
    clean_md = render_md(clean["md"].read_text(encoding="utf-8"))
    assert live(html) == live(clean_html), html   # only the template's own markup
    assert " ".join(value.split()) in " ".join("".join(scan(html).text).split())
    assert live(md) == live(clean_md), md
    assert md.count("<tr>") == clean_md.count("<tr>"), "a hostile value added table rows"
    assert md.count("<td>") == clean_md.count("<td>"), "a hostile value added table cells"


def test_negative_control_unescaped_templates_are_live(ws):
    value = HOSTILE[0]
    data = record(Workspace.at(ws), _doc(value), dt.date(2026, 1, 3), value, value, "0")
    old = Environment(loader=FileSystemLoader(PACKAGE_ROOT / "templates"), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html"]), keep_trailing_newline=True)
    old.filters["mdcode"] = lambda v: f"`{v}`"   # the templates as they were
    assert "script" in live(old.get_template("certificate.html.j2").render(c=data))
    assert "script" in live(render_md(old.get_template("certificate.md.j2").render(c=data)))


def _plan(value: str) -> Plan:
    a = Action(f"local/edu/{value}", "server", "local", ActionKind.UPDATE, value,
               changes={value: {"old": value, "new": value}})
    return Plan("ws-000000000000", "l", 1, "sha256:" + "0" * 64, [a])


@pytest.mark.parametrize("value", HOSTILE)
def test_merge_request_plan_summary_escapes(value):
    md = render_md(plan_markdown(_plan(value)))
    assert live(md) == live(render_md(plan_markdown(_plan("harmless")))), md
    assert md.count("<tr>") == 2, md   # header + the one action
    assert md.count("<td>") == 4, md


def test_negative_control_plan_template_without_escaping_is_live():
    from orchestrator.cli.render import SYMBOL
    env = Environment(loader=FileSystemLoader(PACKAGE_ROOT / "templates"), undefined=StrictUndefined)
    env.filters.update(mdcode=lambda v: f"`{v}`", code=lambda v: f"`{v}`", esc=str, value=str)
    p = _plan(HOSTILE[3] + HOSTILE[0])
    out = env.get_template("plan.md.j2").render(plan=p, changes=p.actions, scheduled=0,
                                                symbols={k: v[0] for k, v in SYMBOL.items()},
                                                attrs=lambda a: "", block=lambda t, lang="": t)
    found = live(render_md(out))
    assert "a" in found and "script" in found, found

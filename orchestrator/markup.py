"""Templates escaped for their output format: every value a template prints is escaped unless a
filter made it markup on purpose.

- HTML (``*.html.j2``): jinja2 autoescaping. ``select_autoescape(["html"])`` never matched the
  ``.j2`` suffix, so a system name with ``<script>`` became live script.
- Markdown (``*.md.j2``): each printed value goes through :func:`md_text` (jinja2 ``finalize``):
  HTML is escaped (GitLab/GitHub render raw HTML), Markdown punctuation is backslash-escaped
  (``|`` cannot split a table cell, ``[..](javascript:..)`` cannot become a link, ``*``/``_``
  cannot restyle), ``javascript:``/``data:``/``vbscript:`` lose their colon, and line breaks
  become spaces (a newline would end the table). ``|mdcode`` prints a code span instead.
"""
from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

_MD_PUNCT = re.compile(r"([\\`*_{}\[\]|~])")
_SCHEMES = re.compile(r"(?i)\b(javascript|vbscript|data)\s*:")
_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


class MdSafe(str):
    """Markdown a filter produced on purpose: finalize prints it as it is."""


def md_text(value: Any) -> str:
    """``value`` as literal text inside Markdown (a table cell included)."""
    if isinstance(value, MdSafe):
        return value
    if value is None:
        return ""
    text = _BREAKS.sub(" ", str(value))
    text = html.escape(text, quote=False)
    text = _MD_PUNCT.sub(r"\\\1", text)
    return _SCHEMES.sub(lambda m: m.group(1) + "&#58;", text)


def md_code(value: Any) -> MdSafe:
    """``value`` as a code span: a fence longer than any backtick run inside, ``|`` escaped for
    tables (GFM splits cells before code spans), line breaks as spaces. Inside a code span HTML
    and links are inert."""
    text = _BREAKS.sub(" ", "" if value is None else str(value))
    longest = max((len(r) for r in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return MdSafe(fence + pad + text.replace("|", "\\|") + pad + fence)


def environment(directory: Path, fmt: str) -> Environment:
    """A jinja2 environment whose every printed value is escaped for ``fmt``
    ("html" or "markdown")."""
    common = dict(loader=FileSystemLoader(directory), undefined=StrictUndefined,
                  keep_trailing_newline=True)
    if fmt == "html":
        return Environment(autoescape=True, **common)
    if fmt == "markdown":
        env = Environment(autoescape=False, finalize=md_text, **common)
        env.filters["mdcode"] = md_code
        env.filters["md"] = lambda v: MdSafe(md_text(v))
        return env
    raise ValueError(f"unknown markup format {fmt!r}")

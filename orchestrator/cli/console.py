"""The CLI's console: rich on a terminal, plain text written directly everywhere else.

When the output is not a terminal rich prints no colour anyway, yet importing it costs about
0.05-0.1 s CPU, a fifth of a command such as `validate` in a pipeline. So a string printed to a
pipe or a file has rich's markup removed here, the way rich does it (escapes, control codes;
emoji codes such as :x: stay as written, where rich would draw them); anything else (tables,
JSON, tabs, FORCE_COLOR or TTY_COMPATIBLE=1, a terminal) goes to rich.
"""
from __future__ import annotations

import os
import re
import sys
from typing import Any

# rich.markup's tag and escape syntax (rich/markup.py, MIT licence)
_TAGS = re.compile(r"((\\*)\[([a-z#/@][^[]*?)])")
_ESCAPE = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")
_CONTROL = {7: None, 8: None, 11: None, 12: None, 13: None}   # what rich's Text strips


def escape(markup: str) -> str:
    """rich.markup.escape: the text shows as it is."""
    markup = _ESCAPE.sub(lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}", markup)
    if markup.endswith("\\") and not markup.endswith("\\\\"):
        return markup + "\\"
    return markup


def plain(markup: str) -> str:
    """The text rich prints for `markup` without colour (rich.markup.render's text)."""
    if "[" not in markup:
        return markup
    out, position = [], 0
    for match in _TAGS.finditer(markup):
        full, escapes, _ = match.groups()
        start, end = match.span()
        out.append(markup[position:start].replace("\\[", "["))  # a \[ that opens no tag
        backslashes, escaped = divmod(len(escapes), 2)
        out.append("\\" * backslashes)
        if escaped:
            out.append(full[len(escapes):])
        position = end
    out.append(markup[position:].replace("\\[", "["))
    return "".join(out)


class Console:
    """The subset of rich.console.Console the CLI uses; the rest is rich's own."""

    def __init__(self, stderr: bool = False):
        self.stderr = stderr
        self._rich = None

    @property
    def file(self):
        return sys.stderr if self.stderr else sys.stdout

    def rich(self):
        if self._rich is None:
            from rich.console import Console as RichConsole
            self._rich = RichConsole(stderr=self.stderr, highlight=False, soft_wrap=True)
        return self._rich

    def _plain(self) -> bool:
        if os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE") == "1":
            return False
        isatty = getattr(self.file, "isatty", None)
        return not (isatty and isatty())

    @property
    def is_terminal(self) -> bool:
        return not self._plain() and self.rich().is_terminal

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", markup: bool | None = None,
              **options: Any) -> None:
        if options or not self._plain() or not all(type(o) is str for o in objects) \
                or any("\t" in o for o in objects):
            return self.rich().print(*objects, sep=sep, end=end, markup=markup, **options)
        texts = objects if markup is False else [plain(o) for o in objects]
        self.file.write(sep.join(texts).translate(_CONTROL) + end)
        self.file.flush()

    def __getattr__(self, name: str):
        return getattr(self.rich(), name)

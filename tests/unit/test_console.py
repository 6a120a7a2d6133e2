"""The CLI console writes text to a pipe without rich: it must print what rich prints there."""
from __future__ import annotations

import contextlib
import io
import random

import pytest
from rich.console import Console as RichConsole
from rich.errors import MarkupError
from rich.markup import escape as rich_escape

from orchestrator.cli.console import Console, escape

SAMPLES = ["[green]Valid:[/] 2 approvals", "[bold red]Error:[/] bad \\[x] [/]", "a \\\\[b] c",
           "no [tag here", "[dim]{x}[/]  [yellow]\\[setting][/]", "ends in \\", "cr\rbell\x07",
           "[link=http://a]l[/link]", "[#ff0000]r[/]", "\\[ga", "中文 [b]粗[/b]", ""]


def rich_prints(markup: str) -> str:
    out = io.StringIO()
    RichConsole(file=out, highlight=False, soft_wrap=True, emoji=False).print(markup)
    return out.getvalue()


def corpus():
    rng = random.Random(7)
    pieces = ["[b]", "[/]", "[/b]", "[", "]", "\\", "\\[", "x", " ", "=", "#", "@", "/", "\n",
              "\x07", "\r", "中"]
    return SAMPLES + ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
                      for _ in range(3000)]


def printed(markup: str) -> str:
    out = io.StringIO()               # not a terminal: the console's own path, no rich
    with contextlib.redirect_stdout(out):
        Console().print(markup)
    return out.getvalue()


def test_plain_text_is_what_rich_prints_without_a_terminal():
    checked = 0
    for markup in corpus():
        for text in (markup, escape(markup)):
            assert escape(text) == rich_escape(text)
            try:
                expected = rich_prints(text)
            except MarkupError:
                continue            # rich refuses it; the console prints it anyway
            assert printed(text) == expected, repr(text)
            checked += 1
    assert checked > 3000
    assert printed("x\ty [b]z[/]") == rich_prints("x\ty [b]z[/]")   # tabs: rich itself


@pytest.mark.parametrize("forced", [{}, {"FORCE_COLOR": "1"}])
def test_the_console_writes_plain_text_to_a_pipe_and_uses_rich_when_forced(capsys, monkeypatch,
                                                                           forced):
    for k, v in forced.items():
        monkeypatch.setenv(k, v)
    Console().print("[green]Valid:[/] x\\[1]", "y")
    Console(stderr=True).print("[red]E[/]")
    got = capsys.readouterr()
    assert got.out.endswith("x[1] y\n") and "E" in got.err
    assert ("\x1b[" in got.out) == bool(forced)

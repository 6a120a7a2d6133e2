"""Shell completion of a workspace's system codes and approval numbers.

Read cheaply on every Tab: file names under stacks/ and the `approval_no:` lines of
approvals/*.yaml, with no YAML parsing and no validation (a broken approval still completes).
The workspace is the command's `-C`, else the root's (`govcloud -C DIR ...`), else the
current directory.
"""
from __future__ import annotations

import re
from pathlib import Path

_APPROVAL_NO = re.compile(r"""^approval_no:\s*["']?([^"'#\s]+)""", re.MULTILINE)
_SYSTEM_CODE = re.compile(r"""^system:\s*(?:\{\s*|\n\s+)code:\s*["']?([^"',}#\s]+)""", re.MULTILINE)


def system_codes(workspace: Path, incomplete: str = "") -> list[tuple[str, str]]:
    """(value, help) for each compiled system: `SYSTEM`, or `DEPARTMENT/SYSTEM` once the
    incomplete word has a slash. From stacks/<department>/<system>.yaml."""
    out = []
    for spec in sorted((workspace / "stacks").glob("*/*.yaml")):
        dept, system = spec.parent.name, spec.stem
        value = f"{dept}/{system}" if "/" in incomplete else system
        if value.startswith(incomplete):
            out.append((value, f"department {dept}"))
    return out


def approval_numbers(workspace: Path, incomplete: str = "") -> list[tuple[str, str]]:
    """(value, help) for each approval file's `approval_no:` line; the help is its system."""
    out = []
    approvals = workspace / "approvals"
    files = sorted(approvals.glob("*.y*ml")) if approvals.is_dir() else []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        m = _APPROVAL_NO.search(text)
        if m and m.group(1).startswith(incomplete):
            system = _SYSTEM_CODE.search(text)
            out.append((m.group(1), f"system {system.group(1)}" if system else path.name))
    return out


def workspace_of(ctx) -> Path:
    """The `-C` value of the innermost command that has one, else the current directory.
    The root's `-C` reaches the command as its default (root.workspace_defaults)."""
    while ctx is not None:
        for p in ctx.command.params:
            if "-C" in getattr(p, "opts", ()) and ctx.params.get(p.name):
                return Path(ctx.params[p.name])
        ctx = ctx.parent
    return Path(".")


# typer's autocompletion callbacks: the parameter names ctx and incomplete are what it passes.
def complete_system(ctx, incomplete: str):
    return system_codes(workspace_of(ctx), incomplete)


def complete_approval(ctx, incomplete: str):
    return approval_numbers(workspace_of(ctx), incomplete)


# --- the shell side ---------------------------------------------------------------------------
def typer_instruction(instruction: str) -> str:
    """Accept click's order (`zsh_complete`, `bash_source`) as well as typer's
    (`complete_zsh`, what the installed scripts send)."""
    first, _, rest = instruction.partition("_")
    return f"{rest}_{first}" if rest in ("complete", "source") else instruction


def register_shells() -> None:
    """typer's completion classes, but zsh's and fish's without typer's help sanitising, which
    imports rich on every Tab (govcloud's help texts carry no rich markup)."""
    from typer._click.shell_completion import add_completion_class
    from typer._completion_classes import FishComplete, ZshComplete, completion_init

    completion_init()

    class Zsh(ZshComplete):
        def format_completion(self, item) -> str:
            def esc(s: str) -> str:
                return (s.replace('"', '""').replace("'", "''").replace("$", "\\$")
                        .replace("`", "\\`").replace(":", r"\\:"))
            if item.help:
                return f'"{esc(item.value)}":"{esc(item.help)}"'
            return f'"{esc(item.value)}"'

    class Fish(FishComplete):
        def format_completion(self, item) -> str:
            if item.help:
                return f"{item.value}\t{' '.join(item.help.split())}"
            return item.value

    add_completion_class(Zsh, "zsh")
    add_completion_class(Fish, "fish")

"""Shell completion: a workspace's system codes and approval numbers, and installing it.

Read cheaply on every Tab: file names under stacks/ and the `approval_no:` lines of
approvals/*.yaml, with no YAML parsing and no validation (a broken approval still completes).
The workspace is the command's `-C`, else the root's (`govcloud -C DIR ...`), else the
current directory. Also the root's `--install-completion [SHELL]` / `--show-completion [SHELL]`.
"""
from __future__ import annotations

import re
from pathlib import Path

import typer

PROG = "govcloud"          # the console script; completion scripts call it by this name
COMPLETE_VAR = "_GOVCLOUD_COMPLETE"
SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")
COMPLETION_FLAGS = ("--install-completion", "--show-completion")
AUTO_SHELL = ""            # a completion flag without a shell: detect it

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


# --- --install-completion [SHELL], --show-completion [SHELL] ----------------------------------
# typer's own flags take no value and detect the shell (shellingham: the parent process), so
# `--install-completion zsh` installed bash's completion from bash, "zsh" left unread.
def flag_values(args: list[str]) -> list[str]:
    """`--install-completion zsh` -> `--install-completion=zsh` (any word that follows is the
    shell, checked later); a bare flag -> detect the shell. Only the root's options (before
    the command name) are looked at."""
    out, i = [], 0
    while i < len(args):
        a = args[i]
        if a in COMPLETION_FLAGS:
            if i + 1 < len(args) and not args[i + 1].startswith("-"):
                out.append(f"{a}={args[i + 1]}")
                i += 2
                continue
            out.append(f"{a}={AUTO_SHELL}")
        elif a in ("-C", "--dir"):
            out.extend(args[i:i + 2])
            i += 2
            continue
        else:
            out.append(a)
            if a == "--" or not a.startswith("-"):   # the command: the rest is its own
                return out + list(args[i + 1:])
        i += 1
    return out


def _shell(value: str) -> str:
    if value != AUTO_SHELL:
        if value not in SHELLS:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(SHELLS)}.")
        return value
    from typer._completion_shared import _get_shell_name
    shell = _get_shell_name()
    if shell not in SHELLS:
        raise typer.BadParameter(f"cannot tell which shell this is ({shell or 'unknown'}); "
                                 f"name it: one of {', '.join(SHELLS)}.")
    return shell


def install(ctx, param, value: str | None):
    """The root's --install-completion: SHELL's script where that shell loads it."""
    if value is None or ctx.resilient_parsing:
        return value
    from typer._completion_shared import install as typer_install
    shell, path = typer_install(shell=_shell(value), prog_name=PROG, complete_var=COMPLETE_VAR)
    typer.echo(f"{shell} completion installed in {path}")
    typer.echo("Completion will take effect once you restart the terminal")
    raise typer.Exit(0)


def show(ctx, param, value: str | None):
    """The root's --show-completion: print SHELL's script."""
    if value is None or ctx.resilient_parsing:
        return value
    from typer._completion_shared import get_completion_script
    typer.echo(get_completion_script(prog_name=PROG, complete_var=COMPLETE_VAR,
                                     shell=_shell(value)))
    raise typer.Exit(0)

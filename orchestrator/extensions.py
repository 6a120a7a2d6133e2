"""Recorded extensions of temporary terms: ``extensions/<APPROVAL>.yaml``, written by
`govcloud extend` after the profile accepted the request and read by validate and compile (an
extension moves its term's end in the specs, so specs stay a function of reviewed files)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from .errors import InputError, Issue
from .inputs import parse, read_yaml
from .models.approval import Approval, PermanentTerm
from .models.extension import Extension, ExtensionFile
from .workspace import Workspace

EXTENSIONS_DIR = "extensions"


def extension_files(ws: Workspace) -> list[Path]:
    d = ws.root / EXTENSIONS_DIR
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir() if p.suffix in (".yaml", ".yml") and not p.name.startswith("."))


def load_extensions(ws: Workspace) -> tuple[dict[str, tuple[str, ExtensionFile]], list[InputError]]:
    """approval_no -> (file as shown, its records); and the files that cannot be used."""
    out: dict[str, tuple[str, ExtensionFile]] = {}
    errors = []
    for p in extension_files(ws):
        display = ws.rel(p)
        try:
            ext = parse(ExtensionFile, read_yaml(p, display), display)
        except InputError as exc:
            errors.append(exc)
            continue
        if p.stem != ext.approval_no:
            errors.append(InputError(display, [Issue("approval_no", f"{ext.approval_no!r} does not "
                                     f"match the file name {p.name!r}")]))
            continue
        out[ext.approval_no] = (display, ext)
    return out, errors


def extension_ends(ws: Workspace) -> dict[str, dt.date]:
    """approval_no -> the term's effective end (its last extension's ``until``)."""
    exts, _ = load_extensions(ws)
    return {no: e.until for no, (_, e) in exts.items()}


def extension_issues(ws: Workspace, approvals: dict[str, Approval]) -> list[InputError]:
    """The validate pass over extension files: each names an approval that is temporary and
    continues from that approval's own end."""
    exts, errors = load_extensions(ws)
    by_no = {a.approval_no: a for a in approvals.values()}
    for no, (display, ext) in sorted(exts.items()):
        a = by_no.get(no)
        if a is None:
            errors.append(InputError(display, [Issue("approval_no", f"no approval {no!r} under "
                                     "approvals/ (remove the file with its approval)")]))
        elif isinstance(a.term, PermanentTerm):
            errors.append(InputError(display, [Issue("approval_no", f"{no} is permanent: only "
                                     "windows and emergency terms are extended")]))
        elif ext.extensions[0].previous_end != a.term.end:
            errors.append(InputError(display, [Issue("extensions[0].previous_end",
                f"{ext.extensions[0].previous_end} is not the approval's term.end {a.term.end}")]))
    return errors


def write_extension(ws: Workspace, approval_no: str, ext: Extension) -> Path:
    """Append ``ext`` to the approval's extension file (atomically: written, then renamed)."""
    exts, errors = load_extensions(ws)
    for err in errors:
        if Path(err.file).stem == approval_no:
            raise err
    prior = exts.get(approval_no)
    records = (list(prior[1].extensions) if prior else []) + [ext]
    data = ExtensionFile(approval_no=approval_no, extensions=records).model_dump(mode="json")
    path = ws.root / EXTENSIONS_DIR / f"{approval_no}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = ("# Recorded by `govcloud extend` after the profile accepted it; read by "
            "`govcloud compile`.\n# Review and commit with the recompiled stacks/.\n"
            + yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path

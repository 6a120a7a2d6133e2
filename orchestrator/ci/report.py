"""The merge-request report of `govcloud ci plan`, in Markdown (GitLab, GitHub, Gitea render it).

Everything that comes from a file (names, reasons, values) is escaped: table cells cannot be
split by ``|``, raw HTML and autolinks are shown as text, ``[text](javascript:...)`` is never a
link; values go in fenced code blocks whose fence is longer than any backtick run inside.
"""
from __future__ import annotations

import json
import re
from typing import Any

from ..models.plan import Plan

SYMBOL = {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "adopt": "<=",
          "no-op": " "}
_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def esc(value: Any) -> str:
    """Inline Markdown text: one line, no HTML, no links, no table breaks."""
    s = str(value)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _SPECIAL.sub(r"\\\1", s)
    s = re.sub(r"(?i)(javascript|data|vbscript):", r"\1&#58;", s)
    return s.replace("\r", " ").replace("\n", "<br>")


def code(value: Any) -> str:
    """Inline code that survives any content (backticks included)."""
    s = str(value).replace("\n", " ").replace("|", "\\|")
    run = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (run + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def block(text: str, lang: str = "") -> str:
    run = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, run + 1)
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"


def _table(head: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def _n(d: dict[str, int]) -> str:
    return f"{d['vcpus']} / {d['ram_gb']} / {d['disk_gb']} / {d['public_ips']}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


def review_tables(review: dict[str, Any], level: str = "###") -> str:
    """A plan's fee change and quota view (core/review.py) as Markdown tables: the merge-request
    report and `govcloud plan --output markdown` both print these."""
    fees, total, quota = review["fees"], review["fee_total"], review["quota"]
    base = review.get("fees_before") or "applied"
    out = [f"{level} Fee change (monthly, yuan)", "",
           "Before: " + ("the fees in force at the last apply" if base == "applied"
                         else f"as at {code(base[:12])}") + "; after: the approvals priced from the "
           "catalog now.", ""]
    out.append(_table(["approval", "system", "before", "after", "change"],
                      [[esc(f["approval"]), esc(f["system"]), esc(f["before"] or "—"),
                        esc(f["after"] or "—"), esc(_signed(f["change"]))] for f in fees]))
    out += ["", f"**Total: {esc(total['before'])} → {esc(total['after'])} "
                f"({esc(_signed(total['change']))} per month)**", ""]
    out += [f"{level} Quota view (vCPU / RAM GB / disk GB / public IPs)", ""]
    out.append(_table(["department", "zone", "approved", "planned", "scheduled", "quota", "used",
                       ""],
                      [[esc(q["department"]), esc(q["zone"]), _n(q["approved"]), _n(q["planned"]),
                        _n(q["scheduled"]), _n(q["quota"]), _n(q["used"]),
                        ("**exceeds the approval**" if q["excess"] else "ok")] for q in quota]))
    if review.get("excess"):
        out += ["", "**Beyond the approval (the plan is refused):**", ""]
        for e in review["excess"]:
            what = "; ".join(f"{esc(d)} planned {e['planned'][d]}, approved {e['approved'][d]}"
                             for d in e["over"])
            where = ", ".join(code(st) for st in e["by_stack"])
            out.append(f"- {esc(e['approval'] or '(no approval)')}, zone {esc(e['zone'])}"
                       + (f", quota of {code(e['quota_of'])}" if e["quota_of"] else "")
                       + f": {what} ({where})")
    return "\n".join(out)


def render(plan: Plan, *, commit: str, pipeline: str, base: str | None,
           signatures: list[dict[str, Any]], findings: list[dict[str, Any]],
           warnings: list[str]) -> str:
    s = plan.summary
    out = [f"## govcloud plan — workspace {code(plan.workspace_id)}", "",
           f"Commit {code(commit[:12])} · pipeline {code(pipeline)} · state serial {plan.serial}"
           + (f" · compared with {code(base[:12])}" if base else ""), ""]
    changes = [a for a in plan.actions if a.action.value != "no-op"]
    scheduled = sum(1 for a in plan.actions if a.cause.value == "scheduled")
    if changes:
        out.append(f"**{s['create']}** to create, **{s['update']}** to update, **{s['replace']}** "
                   f"to replace, **{s['delete']}** to delete, **{s['adopt']}** to adopt, "
                   f"{s['no-op'] - scheduled} unchanged, {scheduled} scheduled.")
    else:
        out.append(f"**No changes.** {s['no-op'] - scheduled} objects up to date"
                   + (f", {scheduled} scheduled (their window has not opened)." if scheduled else "."))
    out.append("")

    out += [review_tables(plan.review), ""] if plan.review else []

    if changes:
        out += ["### Changes", ""]
        out.append(_table(["", "action", "object", "why"],
                          [[esc(SYMBOL[a.action.value]), esc(a.action.value), code(a.address),
                            esc(a.reason) + (" **(wipes its data first)**"
                                             if a.action.value in ("delete", "replace")
                                             and a.kind == "volume" else "")]
                           for a in changes]))
        out.append("")
        for a in changes:
            out.append(f"<details><summary>{esc(a.action.value)} {esc(a.address)}</summary>\n")
            if a.action.value == "create" and a.desired is not None:
                out.append(block(_json({"properties": dict(a.desired.properties),
                                        "refs": dict(a.desired.refs)}), "json"))
            elif a.changes:
                out.append(_table(["field", "old", "new"],
                                  [[code(f), code(_compact(c.get("old"))),
                                    code(_compact(c.get("new")))
                                    + (" (forces replacement)" if c.get("forces_replacement")
                                       else "")] for f, c in a.changes.items()]))
                out.append("")
                out.append(block(_json(a.changes), "json"))
            else:
                out.append(esc(a.reason))
            out.append("\n</details>\n")

    out += ["### Signatures", ""]
    out.append(_table(["file", "status", "key", "holder"],
                      [[code(v["file"]), esc(v["status"]), esc(v.get("key_id") or "—"),
                        esc(v.get("holder") or "—")] for v in signatures]))
    out.append("")
    out += ["### Policy findings", ""]
    if not findings and not warnings:
        out.append("None: every approval meets the profile's rules.")
    for w in warnings:
        out.append(f"- warning: {esc(w)}")
    for f in findings:
        out.append(f"- {esc(f['severity'])}: {code(f['file'])} {esc(f['path'])}: {esc(f['en'])} "
                   f"— {esc(f['citation'])}")
    out += ["", f"Plan digest {code(plan.digest[:30] + '…')}", ""]
    return "\n".join(out)


def _signed(change: str) -> str:
    return change if change.startswith("-") else "+" + change


def _compact(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True,
                                                   default=str)


def value(v: Any) -> str:
    """A plan value in a table cell: whole, escaped."""
    return esc(_compact(v))


def attributes(a) -> str:
    """A create's attributes (properties and refs) as indented JSON."""
    if a.desired is None:
        return ""
    return _json({"properties": dict(a.desired.properties), "refs": dict(a.desired.refs)})

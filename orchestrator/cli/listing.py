"""`-f table|json|yaml|csv|value` and `-c COLUMN` of the list commands, as the `openstack`
CLI has them (cliff): rows as a table, a JSON or YAML list of objects, CSV with a header, or bare
values; `-c` (repeatable) keeps those columns, in that order. Unknown columns are an error
naming the ones there are. Independent of `--output`, whose JSON is the documented shape."""
from __future__ import annotations

import enum
import json
import sys
from typing import Annotated, Any, Optional

import typer


class ListFormat(str, enum.Enum):
    table = "table"
    json = "json"
    yaml = "yaml"
    csv = "csv"
    value = "value"


Fmt = Annotated[Optional[ListFormat], typer.Option(
    "-f", "--format", help="Rows as table, json, yaml, csv or value (like the openstack CLI).")]
Cols = Annotated[Optional[list[str]], typer.Option(
    "-c", "--column", metavar="COLUMN", help="Only this column (repeatable; with -f).")]


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    return str(v)


def _csv_cell(v: Any) -> Any:
    """Numbers stay numbers (unquoted, as cliff's CSV writes them); everything else text."""
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else _cell(v)


def emit(rows: list[dict[str, Any]], columns: list[str], fmt: ListFormat | None,
         wanted: list[str] | None) -> None:
    from ..errors import GovcloudError
    if wanted:
        bad = [c for c in wanted if c not in columns]
        if bad:
            raise GovcloudError(f"no column {', '.join(bad)}",
                                fix=f"columns: {', '.join(columns)}")
        columns = list(wanted)
    fmt = fmt or ListFormat.table
    out = sys.stdout
    if fmt is ListFormat.json:
        out.write(json.dumps([{c: r.get(c) for c in columns} for r in rows], ensure_ascii=False,
                             indent=2, default=str) + "\n")
    elif fmt is ListFormat.yaml:
        import yaml
        out.write(yaml.safe_dump([{c: r.get(c) for c in columns} for r in rows],
                                 allow_unicode=True, sort_keys=False) if rows else "[]\n")
    elif fmt is ListFormat.csv:
        import csv
        w = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([_csv_cell(r.get(c)) for c in columns])
    elif fmt is ListFormat.value:
        for r in rows:
            out.write(" ".join(_cell(r.get(c)) for c in columns) + "\n")
    else:
        cells = [[_cell(r.get(c)) for c in columns] for r in rows]
        widths = [max([len(c)] + [len(x[i]) for x in cells]) for i, c in enumerate(columns)]
        line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        out.write(line + "\n| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths)) + " |\n"
                  + line + "\n")
        for x in cells:
            out.write("| " + " | ".join(v.ljust(w) for v, w in zip(x, widths)) + " |\n")
        out.write(line + "\n")
    out.flush()

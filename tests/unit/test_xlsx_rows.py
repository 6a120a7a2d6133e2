"""reports.xlsx.FastRows writes rows of a write-only sheet byte for byte as openpyxl's own
writer (styled_row) does, plain values itself and everything else through openpyxl."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from orchestrator.reports.xlsx import MONEY, QTY, FastRows, fixed_bytes, styled_row, workbook

ODD = ["", " ", " lead", "trail ", " both ", "a&b<c>d", "line\nbreak\r\n", "tab\there", "=SUM(A1)",
       "=", "#N/A", "#DIV/0!", "政务云", "x" * 40000, "'quoted", "\u2028", "😀", None, 0, -7,
       10 ** 20, 2 ** 70, 1.5, 1e-9, 3.0, float("nan"), float("inf"), Decimal("320.00"),
       Decimal("0.2"), Decimal("-1234.5678"), Decimal("1E+3"), True, False, dt.date(2026, 11, 30),
       dt.datetime(2026, 11, 30, 8, 0)]
FORMATS = {1: QTY, 2: MONEY, 4: "#,##0.0000"}


def build(rows: list[list], fast: bool) -> bytes:
    wb = workbook(write_only=True)
    first = wb.create_sheet("summary")
    styled_row(first, ["title"])
    styled_row(first, ["h1", "h2"], header=True)
    f = FastRows()
    for k in range(3):
        sh = wb.create_sheet(f"s{k}")
        if fast:
            out = f.sheet(sh)
            out.append([f"sheet {k}"])
            out.append(["a", "b", "c", "d", "e", "f"], header=True)
            for r in rows:
                out.append(r, FORMATS)
        else:
            sh.append([f"sheet {k}"])
            styled_row(sh, ["a", "b", "c", "d", "e", "f"], header=True)
            for r in rows:
                styled_row(sh, r, FORMATS)
    return fixed_bytes(wb, "2026-11-30", f if fast else None)


def test_same_bytes_as_openpyxl_for_every_kind_of_value():
    rng = random.Random(19)
    rows = [[rng.choice(ODD) for _ in range(rng.randint(0, 7))] for _ in range(400)]
    rows += [[], [None] * 6, ODD[:7], ODD[7:14], ODD[14:21], ODD[21:28], ODD[28:]]
    assert build(rows, True) == build(rows, False)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # openpyxl's
def test_a_control_character_is_refused_as_openpyxl_refuses_it():    # abandoned sheet writer
    from openpyxl.utils.exceptions import IllegalCharacterError
    with pytest.raises(IllegalCharacterError):
        build([["ok", "bad\x01"]], True)
    with pytest.raises(IllegalCharacterError):
        build([["ok", "bad\x01"]], False)
    import gc
    gc.collect()          # the abandoned sheet writers are finalised here, not in a later test


def test_the_comparison_sees_a_difference():
    """Negative control: a different value gives a different file."""
    assert build([["a", 1]], True) != build([["a", 2]], True)

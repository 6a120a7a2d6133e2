from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from datetime import date

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo,
                      model_validator)

SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# No value in a govcloud input is longer (the longest shipped: a profile note of 265 characters);
# a 100 KB value is refused, never echoed into a plan or a message.
MAX_TEXT = 1000
# Names that reach plans, specs and cloud objects (a department, a system, a volume type...).
Name = Annotated[str, Field(min_length=1, max_length=128)]


# The validation context of data known to be free of control characters (a pure function of
# the data: the same bytes, parsed the same, checked by the same code).
TEXT_CHECKED = {"text_checked": True}


class Input(Frozen):
    """Base of the models of the files people write (approvals, change and extension documents,
    the catalog, profiles, govcloud.toml): strict types, no NaN or infinity. pydantic's lax mode
    reads YAML's ``true`` as the count 1, a quoted "12" as 12 and 1 or "yes" as true; a typo then
    passes as something else. Refused instead, naming the field. Prices (``Money``, also from
    "80.00") and dates (``Day``, also from "2026-03-02") are the two lax types. Strings are at
    most MAX_TEXT characters."""
    model_config = Frozen.model_config | ConfigDict(strict=True, allow_inf_nan=False,
                                                    str_max_length=MAX_TEXT)

    @model_validator(mode="before")
    @classmethod
    def _no_control_characters(cls, data, info: ValidationInfo):
        """No text of an input holds a control character (tab and line breaks aside): names
        reach bills, spreadsheets (which cannot store them) and terminals. Each model checks its
        own values (strings, lists and maps of strings); nested models check theirs. Skipped for
        data that passed this very check before (``TEXT_CHECKED`` as the validation context:
        the approval parse cache's entries, see orchestrator/inputs.py), the costliest part of
        validating 10,000 unchanged approvals again."""
        if isinstance(data, dict) and info.context is not TEXT_CHECKED:
            for key, v in data.items():
                for where, text in _texts(str(key), v):
                    m = _CONTROL(text)
                    if m:
                        raise ValueError(f"{where}: control character U+{ord(m.group()):04X} "
                                         f"in {text[:40]!r}: write plain text")
        return data


_CONTROL = re.compile(r"[\000-\010\013\014\016-\037\177]").search


def _texts(key: str, v):
    """(field, text) of a value: a string, the strings of a list, the keys and string values
    of a map (one level: nested models check their own)."""
    if isinstance(v, str):
        yield key, v
    elif isinstance(v, list):
        yield from ((f"{key}[{i}]", x) for i, x in enumerate(v) if isinstance(x, str))
    elif isinstance(v, dict):
        for k, x in v.items():
            if isinstance(k, str):
                yield key, k
            if isinstance(x, str):
                yield f"{key}.{k}", x


def leads_outside(path: str) -> bool:
    """Does the relative ``path`` climb above the directory it starts from ("../x", "a/../../x")?
    Lexical, like os.path.normpath (the models touch no file system); absolute paths: False."""
    if path.startswith("/"):
        return False
    depth = 0
    for part in path.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def _not_a_number(v):
    if isinstance(v, (bool, int, float)):
        raise ValueError(f"{v!r} is not a date (write YYYY-MM-DD)")
    return v


# A date from YAML's date or an ISO string; never from a number (lax mode reads 1767225600 as
# a Unix time).
Day = Annotated[date, Field(strict=False), BeforeValidator(_not_a_number)]


def _slug(v: str) -> str:
    if not SLUG_RE.match(v):
        raise ValueError(
            f"{v!r} is not a valid code: use lower-case letters, digits and single hyphens, "
            "starting with a letter (e.g. 'edu-portal')")
    if len(v) > 40:
        raise ValueError(f"{v!r} is longer than 40 characters")
    return v


Slug = Annotated[str, AfterValidator(_slug)]


MAX_MONEY = Decimal("100000000.00")   # 1亿 yuan a month for one unit: nothing costs more


def _money(v: Decimal) -> Decimal:
    if not v.is_finite():
        raise ValueError(f"{v} is not a price")
    if v < 0:
        raise ValueError("a price cannot be negative")
    if v > MAX_MONEY:
        raise ValueError(f"{v:.6g} is above the largest price a catalog item may have "
                         f"({MAX_MONEY} yuan a month)")
    if v != v.quantize(Decimal("0.01")):
        raise ValueError(f"{v} has more than 2 decimal places (yuan and fen only)")
    return v.quantize(Decimal("0.01"))


Money = Annotated[Decimal, Field(strict=False, allow_inf_nan=False), AfterValidator(_money)]
NonEmptyStr = Annotated[str, Field(min_length=1)]

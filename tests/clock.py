"""Tests move the clock itself: a command that records events refuses a --now after the clock
(orchestrator/cli/options.py recording_now), so a test that lives through later days runs each
command with GOVCLOUD_NOW set: ``cli(..., env=at("2027-02-28"))``."""
from __future__ import annotations


def at(when: str) -> dict[str, str]:
    """The environment of a run whose clock reads WHEN (a date: its midnight, China time)."""
    return {"GOVCLOUD_NOW": when}

"""The fault-injection seam: hooks installed by tests only; no environment variable reaches it."""
from orchestrator import faults
from orchestrator.sanitize import make_sanitizer


def test_a_point_without_hooks_returns_its_value():
    assert faults.point("nowhere", {"a": 1}, x=2) == {"a": 1}


def test_hooks_change_the_value_in_order_and_can_be_removed():
    remove = faults.install("p", lambda v, **i: v + [i["step"]])
    remove2 = faults.install("p", lambda v, **i: v + ["second"])
    try:
        assert faults.point("p", [], step="backup") == ["backup", "second"]
    finally:
        remove()
        remove2()
    assert faults.point("p", [], step="backup") == []


def test_the_sanitizer_fault_comes_only_from_an_installed_hook(monkeypatch):
    monkeypatch.setenv("GOVCLOUD_WIPE_FAULT", "0.5")     # the old variable does nothing now
    assert make_sanitizer("zeros").fault_fraction == 1.0
    remove = faults.install("sanitizer.options", lambda kw, method: {**kw, "fault_fraction": 0.25})
    try:
        assert make_sanitizer("zeros").fault_fraction == 0.25
    finally:
        remove()
    assert make_sanitizer("zeros").fault_fraction == 1.0


def test_no_product_module_reads_a_fault_variable():
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    hits = [str(p.relative_to(root)) for pkg in ("orchestrator", "drivers")
            for p in (root / pkg).rglob("*.py")
            if any(v in p.read_text(encoding="utf-8") for v in
                   ("GOVCLOUD_CRASH_AFTER", "GOVCLOUD_WIPE_FAULT", "GOVCLOUD_LOCAL_FAIL_CREATE"))]
    assert hits == []

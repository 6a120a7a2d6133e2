"""The pure core imports neither drivers nor the state store (conventions: two edges only)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "orchestrator"
PURE = ["compile.py", "planner.py", "graph.py", "pricing.py", "ipam.py", "validate.py",
        "resources.py", "audit.py", "models",
        # policy profiles and lifecycle clocks (issue 5)
        "policy.py", "lifecycle.py", "expiry.py", "workdays.py", "clock.py"]
FORBIDDEN = ("drivers", "orchestrator.state", ".state", "sqlite3", "subprocess", "socket")


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield ("." * node.level) + (node.module or "")


def test_pure_modules_do_not_import_edges():
    files = []
    for name in PURE:
        p = ROOT / name
        files += sorted(p.rglob("*.py")) if p.is_dir() else [p]
    assert len(files) > 10
    bad = [(f.name, m) for f in files for m in _imports(f)
           if m.split(".")[0] in ("drivers", "sqlite3", "subprocess", "socket")
           or m.startswith(("orchestrator.state", ".state", "..state"))]
    assert bad == []


def test_purity_check_catches_a_violation(tmp_path):
    # Negative control: the same walk flags a module that imports a driver.
    f = tmp_path / "x.py"
    f.write_text("from drivers.local.driver import LocalDriver\nimport sqlite3\n")
    found = [m for m in _imports(f) if m.split(".")[0] in ("drivers", "sqlite3")]
    assert found == ["drivers.local.driver", "sqlite3"]
    assert FORBIDDEN

"""The layout's two promises, checked on the import graph of the product code:

1. The pure core (orchestrator/core) imports, transitively, only core, models and errors among
   govcloud's modules, and none of the edges' libraries (drivers, the state store, the file
   system, processes, sockets, the clock's environment).
2. No import cycle among product modules (orchestrator/, drivers/).

Each check is a function over a module graph; the negative controls run the *same* function on
a planted package that breaks the rule, so the checks can fail.
"""
from __future__ import annotations

import ast
from pathlib import Path


REPO = Path(__file__).resolve().parents[2]
PRODUCT = ("orchestrator", "drivers")
# govcloud modules the core may reach; everything else of ours is an edge.
CORE_MAY_IMPORT = ("orchestrator.core", "orchestrator.models", "orchestrator.errors")
# Libraries that are edges wherever they are imported from.
EDGE_LIBRARIES = {"builtins", "importlib", "os", "sqlite3", "subprocess", "socket", "shutil", "tempfile", "pathlib",
                  "psycopg", "urllib.request", "http", "requests", "threading", "signal",
                  "time", "openstack", "libcloud", "pulumi", "boto3", "rich", "typer", "jinja2"}


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(root: Path, path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved; an
    ``from pkg import name`` counts ``pkg.name`` when that is a module of ours)."""
    me = module_name(root, path)
    pkg = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[:len(pkg.split(".")) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out |= {f"{mod}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("open", "exec", "eval", "__import__"):
            out.add(f"builtins.{node.func.id}")   # file access or dynamic imports
    return out


def raw_imports(root: Path, packages=PRODUCT) -> dict[str, set[str]]:
    """Module -> every name it imports (each file parsed once)."""
    return {module_name(root, p): imports_of(root, p) for pkg in packages
            for p in (root / pkg).rglob("*.py") if "__pycache__" not in p.parts}


def graph(root: Path, packages=PRODUCT, raw: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (only names that exist as modules)."""
    raw = raw_imports(root, packages) if raw is None else raw
    return {m: {i for i in names if i in raw and i != m} for m, names in raw.items()}


def purity_violations(root: Path, core: str = "orchestrator.core", packages=PRODUCT) -> list[str]:
    """Every module the core reaches (transitively) that is not core/models/errors, and every
    edge library imported anywhere in that reach, as "chain: problem"."""
    raw = raw_imports(root, packages)
    g = graph(root, packages, raw)
    allowed = CORE_MAY_IMPORT + (core,)
    start = [m for m in g if m == core or m.startswith(core + ".")]
    seen, bad, stack = set(start), [], [(m, m) for m in start]
    while stack:
        mod, chain = stack.pop()
        for lib in sorted(raw[mod]):
            if lib in EDGE_LIBRARIES or lib.split(".")[0] in EDGE_LIBRARIES - {"urllib"}:
                bad.append(f"{chain}: imports {lib}")
        for dep in sorted(g[mod]):
            if dep != "orchestrator" and not any(dep == a or dep.startswith(a + ".") for a in allowed):
                bad.append(f"{chain} -> {dep}: outside the core")
            if dep not in seen:
                seen.add(dep)
                stack.append((dep, f"{chain} -> {dep}"))
    return sorted(set(bad))


def cycles(root: Path, packages=PRODUCT) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), i.e. import cycles.
    Package __init__ edges to their own submodules are ignored (re-exports, not cycles of use)."""
    g = graph(root, packages)
    for m in g:
        g[m] = {d for d in g[m] if not (d.startswith(m + ".") and (root / m.replace(".", "/")).is_dir())}
    index, low, on, st, out, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        st.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = st.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_core_is_pure_transitively():
    assert len([m for m in graph(REPO) if m.startswith("orchestrator.core.")]) >= 10
    assert purity_violations(REPO) == []


def test_no_import_cycle_among_product_modules():
    assert cycles(REPO) == []


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return tmp_path


def test_purity_check_catches_direct_and_transitive_violations(tmp_path):
    root = _plant(tmp_path, {
        "orchestrator/__init__.py": "", "orchestrator/errors.py": "",
        "orchestrator/models/__init__.py": "", "orchestrator/models/m.py": "import json\n",
        "orchestrator/core/__init__.py": "",
        "orchestrator/core/good.py": "from ..models.m import x\nfrom ..errors import E\n",
        "orchestrator/core/direct.py": "import sqlite3\n",
        "orchestrator/core/reads.py": "def f(p):\n    return open(p).read()\n",
        "orchestrator/core/indirect.py": "from ..helper import y\n",
        "orchestrator/helper.py": "from drivers.base import Driver\n",
        "drivers/__init__.py": "", "drivers/base.py": "",
    })
    found = purity_violations(root)
    assert "orchestrator.core.direct: imports sqlite3" in found
    assert "orchestrator.core.reads: imports builtins.open" in found
    assert any("orchestrator.core.indirect -> orchestrator.helper: outside the core" in f for f in found)
    assert any(f.startswith("orchestrator.core.indirect -> orchestrator.helper") and "drivers.base" in f
               for f in found)
    assert not any("core.good" in f for f in found)


def test_cycle_check_catches_a_planted_cycle(tmp_path):
    root = _plant(tmp_path, {
        "orchestrator/__init__.py": "",
        "orchestrator/a.py": "from .b import x\n",
        "orchestrator/b.py": "def f():\n    from .c import y\n",
        "orchestrator/c.py": "from orchestrator import a\n",
        "orchestrator/d.py": "from .a import z\n",
        "drivers/__init__.py": "",
    })
    assert cycles(root) == [["orchestrator.a", "orchestrator.b", "orchestrator.c"]]


def test_no_product_module_is_over_500_lines():
    long = {str(p.relative_to(REPO)): n for pkg in PRODUCT for p in (REPO / pkg).rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 520}
    assert long == {}

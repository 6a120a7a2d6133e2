"""The input fuzzer (issue 16, item 12): structure-aware mutations of the approvals, the catalog,
the profile and govcloud.toml (tests/fuzz/mutations.py), each driven through validate -> compile
-> plan in-process (the CLI runner of tests/conftest.py), on a fresh workspace in a sandbox.

Properties, for every example:
  * no internal error: exit 0, or exit 1 with "Error:", a named input file, "Nothing was
    changed." and no traceback; never another exit code, never an exception out of the CLI;
  * no hang: the three commands together within 5 s (a SIGALRM interrupts a hang);
  * nothing accepted that is invalid: a mutation that must be refused (mutations.py says which)
    is refused by validate, and whatever validate refuses, compile and plan refuse too;
  * nothing written on a refusal (the workspace is as it was), bounded messages (no line over
    1,000 characters: an echoed 100 KB value is cut), and no write outside the workspace ever
    (the sandbox around it is compared before and after).

Budget: GOVCLOUD_FUZZ_EXAMPLES examples per test (default 60 and 40: about a minute on the CI
machine), derandomized so that CI runs the same examples every time; the longer run is
`GOVCLOUD_FUZZ_EXAMPLES=5000 pytest tests/fuzz -q` (README "Fuzzing"). A failing example is
printed with its mutation; fix the code and keep the example as a tests/badinput/cases case.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.conftest import run_cli
from tests.fuzz.mutations import FILES, Docs, Mutation, file_mutation, load_docs, node_mutation

PER_EXAMPLE_SECONDS = 5.0
EXAMPLES = int(os.environ.get("GOVCLOUD_FUZZ_EXAMPLES") or 0)
FUZZ = settings(deadline=None, derandomize=True, database=None, print_blob=False,
                suppress_health_check=list(HealthCheck))
INPUT_NAMES = ("govcloud.toml", "approvals/", "catalog/")   # every input lives under these


class Hang(BaseException):
    """Raised by the timer inside the CLI: a BaseException, so that the CLI's catch-all for
    internal errors does not turn it into a message."""


@contextmanager
def time_limit(seconds: float):
    def fire(*_):
        raise Hang(f"over {seconds} s")
    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def tree(root: Path, skip: Path | None = None) -> dict[str, object]:
    """Every entry under root: a file's bytes, a link's target, else its type; never opens a
    FIFO or a device."""
    out: dict[str, object] = {}
    if not os.path.lexists(root):
        return out
    for dirpath, dirs, files in os.walk(root):
        d = Path(dirpath)
        if skip is not None and (d == skip or skip in d.parents):
            dirs[:] = []
            continue
        for name in dirs + files:
            p = d / name
            if skip is not None and p == skip:
                continue
            st_ = os.lstat(p)
            rel = str(p.relative_to(root))
            if stat.S_ISLNK(st_.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISREG(st_.st_mode):
                out[rel] = p.read_bytes()
            else:
                out[rel] = stat.S_IFMT(st_.st_mode)
    return out


def _template() -> Path:
    """A workspace of the shipped examples, unsigned (the fuzzer tests content, not
    signatures), with its own copy of the profile so that the profile can be mutated. Made at
    import: the strategies are built from its documents."""
    ws = Path(tempfile.mkdtemp(prefix="govcloud-fuzz-base-")) / "ws"
    atexit.register(shutil.rmtree, ws.parent, True)
    r = run_cli("init", ws, "--no-signatures")
    assert r.exit_code == 0, r.output
    from orchestrator.workspace import SHIPPED_CATALOG
    (ws / "catalog" / "profiles").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SHIPPED_CATALOG / "profiles" / "bazhong.yaml", ws / FILES["profile"])
    return ws


TEMPLATE = _template()
PARSED = load_docs(TEMPLATE)
BYTES = Docs({k: (TEMPLATE / rel).read_bytes() for k, rel in FILES.items()})


@pytest.fixture
def base() -> Path:
    return TEMPLATE


def check(base: Path, mutation: Mutation) -> None:
    """The properties for one mutation. A run over the time limit is tried once more on a
    fresh copy: the suite shares its machine, and a run that waited for a CPU is not a hang; a
    hang (or a slow path) is slow both times."""
    try:
        _check_once(base, mutation)
    except Hang:
        try:
            _check_once(base, mutation)
        except Hang:
            raise AssertionError(f"over {PER_EXAMPLE_SECONDS} s twice (a hang)\n{mutation}") from None


def _check_once(base: Path, mutation: Mutation) -> None:
    sandbox = Path(tempfile.mkdtemp(prefix="govcloud-fuzz-"))
    try:
        ws = sandbox / "ws"
        shutil.copytree(base, ws, symlinks=True)
        (sandbox / "outside").mkdir()
        (sandbox / "outside" / "sentinel").write_text("untouched")
        mutation.write(ws, sandbox)
        outside_before = tree(sandbox, skip=ws)
        ws_before = tree(ws)
        results = {}
        with time_limit(PER_EXAMPLE_SECONDS):   # raises Hang, retried once by check()
            for command in ("validate", "compile", "plan"):
                results[command] = run_cli(command, "-C", ws)
        for command, r in results.items():
            out = r.output
            where = f"{mutation}\n{command} -> exit {r.exit_code}:\n{out[:3000]}"
            assert r.exit_code in (0, 1), where
            assert "Traceback" not in out and "internal error" not in out, where
            assert max((len(line) for line in out.splitlines()), default=0) <= 1000, where
            if r.exit_code == 1:
                assert "Error:" in out and "Nothing was changed." in out, where
                assert any(n in out for n in INPUT_NAMES), f"the refusal names no input\n{where}"
        v = results["validate"]
        if mutation.must_refuse:
            assert v.exit_code == 1, f"accepted, must be refused\n{mutation}\n{v.output[:2000]}"
        if v.exit_code == 1:
            for command in ("compile", "plan"):
                assert results[command].exit_code == 1, \
                    f"validate refused, {command} did not\n{mutation}\n{results[command].output[:2000]}"
            assert tree(ws) == ws_before, f"a refused input changed the workspace\n{mutation}"
        assert tree(sandbox, skip=ws) == outside_before, f"written outside the workspace\n{mutation}"
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)


@settings(FUZZ, max_examples=EXAMPLES or 60)
@given(mutation=node_mutation(PARSED))
def test_mutated_documents_are_refused_clearly_or_accepted_correctly(base, mutation):
    check(base, mutation)


@settings(FUZZ, max_examples=EXAMPLES or 40)
@given(mutation=file_mutation(BYTES))
def test_wrong_kinds_of_file_are_refused_clearly(base, mutation):
    check(base, mutation)


def test_negative_control_the_oracle_catches_an_accepted_invalid_input(base):
    """A mutation wrongly labelled must-refuse (an unchanged document) fails the oracle, one
    that writes outside the workspace fails it, and so does a plan slower than the limit: the
    properties can fail."""
    keep = Mutation("approval", "nothing changed", True, lambda ws, sb: None)
    with pytest.raises(AssertionError, match="accepted, must be refused"):
        check(base, keep)
    # an embedded cloud placed outside on purpose (an absolute data_dir): plan writes there
    escape = Mutation("config", "data_dir outside", None,
                      lambda ws, sb: (ws / "govcloud.toml").write_text(
                          (ws / "govcloud.toml").read_text(encoding="utf-8").replace(
                              'driver = "local"', f'driver = "local"\ndata_dir = "{sb}/outside/cloud"'),
                          encoding="utf-8"))
    with pytest.raises(AssertionError, match="written outside the workspace"):
        check(base, escape)
    # a valid but slow target (10 s per simulated API call): plan runs past the limit
    slow = Mutation("config", "latency_ms = 10000", None,
                    lambda ws, sb: (ws / "govcloud.toml").write_text(
                        (ws / "govcloud.toml").read_text(encoding="utf-8").replace(
                            'driver = "local"', 'driver = "local"\nlatency_ms = 10000'),
                        encoding="utf-8"))
    with pytest.raises(AssertionError, match="twice"):
        check(base, slow)

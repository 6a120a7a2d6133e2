"""Sign and verify N approvals (default 10,000) with each algorithm the keyring accepts:
SM2 with SM3 (gmssl, pure Python) and Ed25519 (cryptography/OpenSSL). Prints wall and CPU
seconds, per-operation milliseconds and the SM2 / Ed25519 ratio, measured in one run.

    .venv/bin/python benchmarks/bench_signing.py [--count 10000] [--sm2-count N]

``--sm2-count`` measures SM2 on fewer documents and scales to ``--count`` (pure-Python SM2 is
~25 ms CPU an operation: 10,000 sign + verify is ~8 CPU minutes, far longer on a shared
machine); the line says so when it does.

The documents are the shipped example approval with its number changed (~1.5 KB each), signed
over their exact bytes as `govcloud approval sign` does (orchestrator/trust/signatures.py).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orchestrator.trust.signatures import check_signature, generate_key  # noqa: E402

EXAMPLE = Path(__file__).resolve().parent.parent / "catalog" / "examples" / "approvals" / \
    "BZ-2026-0012.yaml"


def measure(algorithm: str, docs: list[bytes]) -> dict:
    key = generate_key("bench", algorithm)
    pem = key.public_pem()
    w0, c0 = time.perf_counter(), time.process_time()
    sigs = [key.sign(d) for d in docs]
    w1, c1 = time.perf_counter(), time.process_time()
    ok = sum(check_signature(algorithm, pem, d, s) for d, s in zip(docs, sigs))
    w2, c2 = time.perf_counter(), time.process_time()
    bad = check_signature(algorithm, pem, docs[0] + b"#", sigs[0])   # negative control
    assert ok == len(docs) and not bad, (ok, bad)
    return {"sign_wall": w1 - w0, "sign_cpu": c1 - c0, "verify_wall": w2 - w1,
            "verify_cpu": c2 - c1}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--sm2-count", type=int, default=None)
    args = ap.parse_args()
    base = EXAMPLE.read_bytes()
    docs = [base.replace(b"BZ-2026-0012", f"BZ-2026-{i:05d}".encode()) for i in range(args.count)]
    print(f"{args.count} approvals of {len(base)} bytes each")
    results = {}
    for alg in ("ed25519", "sm2-sm3"):
        n = args.sm2_count if alg == "sm2-sm3" and args.sm2_count else args.count
        r = measure(alg, docs[:n])
        scale = args.count / n
        r = results[alg] = {k: v * scale for k, v in r.items()}
        n = args.count
        if scale != 1:
            print(f"({alg}: measured on {args.sm2_count} approvals, scaled to {n})")
        print(f"{alg:8}  sign {r['sign_wall']:8.2f} s wall {r['sign_cpu']:8.2f} s CPU "
              f"({r['sign_wall'] / n * 1000:7.3f} ms each)   verify {r['verify_wall']:8.2f} s wall "
              f"{r['verify_cpu']:8.2f} s CPU ({r['verify_wall'] / n * 1000:7.3f} ms each)",
              flush=True)
    e, s = results["ed25519"], results["sm2-sm3"]
    print(f"ratio sm2-sm3 / ed25519 (CPU): sign {s['sign_cpu'] / e['sign_cpu']:.0f}x, "
          f"verify {s['verify_cpu'] / e['verify_cpu']:.0f}x")


if __name__ == "__main__":
    main()

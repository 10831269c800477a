"""Run Python code in a fresh interpreter under an address-space limit (resource.setrlimit), for tests that
must show a bound on memory: a runaway allocation then fails in the child, never on the test machine."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PEAK_RSS = """
import json, resource, sys
def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""


def run_limited(code: str, limit_bytes: int, timeout_s: float = 120) -> dict:
    """Run `code` (which prints one JSON object as its last line) with RLIMIT_AS set; returns that object,
    or {"rc": ..., "stderr": ...} when it printed none."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", PEAK_RSS + code], capture_output=True, text=True,
                          timeout=timeout_s, preexec_fn=limit, env=env, cwd=ROOT)
    lines = proc.stdout.strip().splitlines()
    try:
        return {"rc": proc.returncode, "stderr": proc.stderr, **json.loads(lines[-1])}
    except (IndexError, ValueError):
        return {"rc": proc.returncode, "stderr": proc.stderr}

"""Bounded, seeded fuzz of the loaders (issue 18): mutants of generated images in every format and mode, and of
the shipped weights' safetensors header, each give a result or a UserError, within a memory limit set in the
child with resource.setrlimit, and print nothing beside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, re, resource, sys, tempfile, time
from pathlib import Path
import torch  # imported before the limit: its libraries' address space is not what is measured
import fuzz_loaders
vm = int(re.search(r"VmSize:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) * 1024
limit = vm + {headroom}
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
with tempfile.TemporaryDirectory() as d:
    out = fuzz_loaders.run({seed}, {images}, {weights}, Path(d))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{**out, "peak_rss": peak, "limit": limit}}))
"""


def test_mutated_images_and_weights_give_a_result_or_a_user_error_within_a_memory_limit():
    headroom = 3 << 29  # 1.5 GiB above the interpreter with torch loaded
    code = CHILD.format(headroom=headroom, seed=20261202, images=900, weights=300)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]), "OMP_NUM_THREADS": "1",
           "MALLOC_ARENA_MAX": "2"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["failures"] == [], json.dumps(res["failures"][:10], indent=1)
    assert res["result"] + res["refused"] == 1200
    assert res["result"] > 50 and res["refused"] > 500  # both outcomes are exercised, not one path only
    assert res["seconds"] < 60
    assert proc.stderr.strip() == "", proc.stderr[-2000:]  # no Pillow warning, no libtiff line

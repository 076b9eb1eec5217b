"""What one grading check costs, per containment mode, against a bare Python start with numpy.

    python benchmarks/bench_grader.py [--rounds 15]

For each mode this machine offers (``handnet.exercises.grading.sandbox``), the
median wall time of one cheap check (the sigmoid reference's "sigmoid_gradient",
seed 1: two calls) run through ``runner.run_check``: a fresh working folder, the
contained child started, the file loaded, the calls answered, the tree killed.
The baseline is ``python -I -c "import numpy"``, which any child costs at least;
rounds are interleaved so that a busy machine slows every column alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from handnet.exercises import EXERCISES
from handnet.exercises.grading import runner, sandbox


def bare_start():
    start = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-c", "import numpy"], check=True)
    return time.perf_counter() - start


def one_check(path):
    start = time.perf_counter()
    result = runner.run_check(path, "sigmoid", "sigmoid_gradient", seed=1)
    assert result.status == "PASS", result.output
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    path = EXERCISES["sigmoid"].reference_path()
    modes = []
    for asked in sandbox.MODES:
        os.environ["HANDNET_CONTAINMENT"] = asked
        box = sandbox.containment()
        if box.mode == asked:
            modes.append(asked)
    times = {"bare": []} | {mode: [] for mode in modes}
    for _ in range(args.rounds):
        times["bare"].append(bare_start())
        for mode in modes:
            os.environ["HANDNET_CONTAINMENT"] = mode
            times[mode].append(one_check(path))
    base = statistics.median(times["bare"])
    print(f"python -I -c 'import numpy': {base:.3f} s (median of {args.rounds})")
    for mode in modes:
        median = statistics.median(times[mode])
        print(f"one check, containment {mode:18s} {median:.3f} s  = {median / base:.2f} x the bare start, "
              f"+{median - base:.3f} s")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()

"""Shared helpers for the handnet benchmarks: interleaved timing, ratios, BLAS threads.

The machine these run on may be shared, so absolute times mean little. Every
benchmark therefore times its contenders *interleaved* in one process (A, B, C,
A, B, C, ... with the order rotated each round) and reports ratios:

    paired ratio   median over rounds of t_A[r] / t_B[r]   (A and B timed back to back)
    min ratio      min(t_A) / min(t_B)                     (the least-disturbed runs)

Both are printed; the paired median is the headline number.

BLAS threads. OpenBLAS reads OPENBLAS_NUM_THREADS when numpy is imported, so a
different thread count needs a fresh process: ``run_settings`` re-runs the
calling script in a subprocess per setting (``--child``), with the variable set
or removed, and collects each child's JSON result line. The glibc malloc
variables (MALLOC_RETAIN) are read at start-up too and are handled the same way.
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
RESULT_MARK = "RESULT-JSON: "


# ----------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------

#: Seconds to wait before each contender's block: OpenBLAS's worker threads spin for about 0.1 s
#: after a call, and a contender timed right after another's BLAS call would share a core with
#: them (without the pause torch's digits step measured 24.6 ms instead of 1.3 ms).
PAUSE = 0.15


def interleaved_times(funcs, repeats, number=1, warmup=1, pause=PAUSE, warm=1):
    """{name: [seconds per call, one per round]} for the callables in ``funcs``.

    Each round times every contender once (``number`` calls each, averaged;
    ``number`` may be a dict giving each contender its own count), in an order
    rotated from round to round so none always runs first. Before each
    contender's block: a pause of ``pause`` seconds (the previous contender's
    BLAS threads go quiet) and ``warm`` untimed calls (its own threads, caches
    and pages are awake; ``warm`` may be a dict, 0 for contenders too slow to
    call twice). ``warmup`` untimed rounds of every contender come first.
    """
    import numpy as np

    names = list(funcs)
    counts = number if isinstance(number, dict) else {name: number for name in names}
    warms = warm if isinstance(warm, dict) else {name: warm for name in names}
    for _ in range(warmup):
        for name in names:
            funcs[name]()
    times = {name: [] for name in names}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            f = funcs[name]
            time.sleep(pause)
            for _ in range(warms[name]):
                f()
            t0 = time.perf_counter()
            for _ in range(counts[name]):
                f()
            times[name].append((time.perf_counter() - t0) / counts[name])
    return {name: np.array(t) for name, t in times.items()}


def ratio(times, num, den):
    """(paired median ratio, min ratio) of contender ``num`` over contender ``den``."""
    import numpy as np

    a, b = times[num], times[den]
    return float(np.median(a / b)), float(a.min() / b.min())


def calls_for(f, target_seconds):
    """How many calls of f fill about ``target_seconds`` (at least 1)."""
    t0 = time.perf_counter()
    f()
    dt = max(time.perf_counter() - t0, 1e-7)
    return max(1, int(round(target_seconds / dt)))


# ----------------------------------------------------------------------------
# Environment
# ----------------------------------------------------------------------------

def _openblas_handle():
    """The loaded OpenBLAS library (after numpy is imported), found in /proc/self/maps."""
    try:
        with open("/proc/self/maps") as fh:
            paths = {line.split()[-1] for line in fh if "openblas" in line.lower() and "/" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def blas_threads_in_effect():
    """The thread count OpenBLAS reports (openblas_get_num_threads), or None if unknown."""
    import numpy  # noqa: F401  (load the library first)

    lib = _openblas_handle()
    if lib is None:
        return None
    for symbol in ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
                   "openblas_get_num_threads64_", "openblas_get_num_threads"):
        fn = getattr(lib, symbol, None)
        if fn is not None:
            return int(fn())
    return None


def cpu_flags():
    """The AVX flags of this CPU from /proc/cpuinfo, e.g. 'avx2 avx512f avx512bw ...' ('?' if unknown)."""
    try:
        with open("/proc/cpuinfo") as fh:
            flags = next(line.split(":", 1)[1].split() for line in fh if line.startswith("flags"))
    except (OSError, StopIteration):
        return "?"
    return " ".join(sorted(f for f in flags if f.startswith("avx") or f == "fma")) or "no avx"


def load_average():
    """The 1-minute load average (other engineers' processes included), or None."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def thread_setting():
    """'OPENBLAS_NUM_THREADS=1' or 'OPENBLAS_NUM_THREADS unset' plus what BLAS reports."""
    env = os.environ.get("OPENBLAS_NUM_THREADS")
    setting = f"OPENBLAS_NUM_THREADS={env}" if env is not None else "OPENBLAS_NUM_THREADS unset"
    n = blas_threads_in_effect()
    return f"{setting} (BLAS uses {n if n is not None else '?'} thread{'s' if n != 1 else ''})"



def blas_name():
    """e.g. 'scipy-openblas 0.3.31.188.0', from np.show_config()."""
    import numpy as np

    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older numpy: no dicts mode
        return "see np.show_config()"


def environment():
    """A dict describing the run: date, nproc, CPU, python, numpy, BLAS, threads."""
    import numpy as np

    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "date": date.today().isoformat(),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_name(),
        "threads": thread_setting(),
        "blas_threads": blas_threads_in_effect(),
        "malloc": malloc_setting(),
        "cpu_flags": cpu_flags(),
        "load": load_average(),
    }


def print_environment(env=None):
    env = env or environment()
    print(f"{env['date']}  nproc={env['nproc']}  cpu={env['cpu']}  python {env['python']}  "
          f"numpy {env['numpy']}  BLAS {env['blas']}")
    print(f"threads: {env['threads']};  malloc: {env['malloc']};  load average {env.get('load')}")
    print(f"cpu flags: {env.get('cpu_flags', '?')}")


# ----------------------------------------------------------------------------
# Thread and allocator settings in subprocesses
# ----------------------------------------------------------------------------

#: glibc malloc settings that keep freed memory in the process ("retain"):
#: no trimming of the heap top, and arrays up to 32 MB served from the heap
#: rather than from fresh mmap()s. Without them every step that allocates its
#: temporaries anew may get its memory back from the kernel as new zeroed
#: pages (one page fault per 4 KB), a cost of the allocator, not the arithmetic.
MALLOC_RETAIN = {"MALLOC_TRIM_THRESHOLD_": str(1 << 34), "MALLOC_MMAP_THRESHOLD_": str(32 << 20)}


def child_env(threads, malloc="default"):
    """os.environ with the BLAS thread variables set to ``threads`` (removed for 'default'),
    and the glibc malloc variables set for malloc='retain' (removed for 'default')."""
    env = dict(os.environ)
    for var in THREAD_VARS + tuple(MALLOC_RETAIN):
        env.pop(var, None)
    if threads != "default":
        for var in THREAD_VARS:
            env[var] = str(int(threads))
    if malloc == "retain":
        env.update(MALLOC_RETAIN)
    elif malloc != "default":
        raise ValueError(f"malloc: expected 'default' or 'retain', got {malloc!r}")
    return env


def malloc_setting():
    """'default' or 'retain' (see MALLOC_RETAIN), from the environment of this process."""
    return "retain" if all(os.environ.get(k) == v for k, v in MALLOC_RETAIN.items()) else "default"


def page_faults():
    """Minor page faults of this process so far (getrusage ru_minflt)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def run_settings(script, settings, child_args):
    """Run ``script --child ...`` once per (threads, malloc) setting; echo its output; collect results.

    settings    e.g. [("default", "default"), ("1", "default"), ("1", "retain")]
    child_args  the other command-line arguments to pass on
    Returns [((threads, malloc), result dict or None)].
    """
    results = []
    for threads, malloc in settings:
        cmd = [sys.executable, script, "--child", *child_args]
        proc = subprocess.run(cmd, env=child_env(threads, malloc), capture_output=True, text=True)
        result = None
        for line in proc.stdout.splitlines():
            if line.startswith(RESULT_MARK):
                result = json.loads(line[len(RESULT_MARK):])
            else:
                print(line)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            raise SystemExit(f"{script} with threads={threads}, malloc={malloc} failed "
                             f"(exit {proc.returncode})")
        results.append(((threads, malloc), result))
        sys.stdout.flush()
    return results


def main_over_threads(script, argv, parse_args, run_child, summary=None):
    """The ``main`` of a benchmark whose only setting is the BLAS thread count.

    As a child (``--child``) it runs ``run_child(args)``; otherwise it re-runs
    ``script`` once per ``--threads`` setting (default "default,1", "default"
    with --quick), passes the results to ``summary`` and prints the total time.
    """
    args = parse_args(argv)
    if args.child:
        run_child(args)
        return 0
    threads = (args.threads or ("default" if args.quick else "default,1")).split(",")
    t0 = time.perf_counter()
    results = run_settings(os.path.abspath(script), [(t.strip(), "default") for t in threads],
                           strip_options(argv, ("--threads",)))
    if summary is not None:
        summary(results)
    print(f"({time.perf_counter() - t0:.0f} s in all)")
    return 0


def strip_options(argv, names):
    """argv without the options ``names`` (each taking one value, '--x v' or '--x=v')."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in names:
            skip = True
            continue
        if any(a.startswith(n + "=") for n in names):
            continue
        out.append(a)
    return out


def emit_result(result):
    """Print the machine-readable result line a parent process collects."""
    print(RESULT_MARK + json.dumps(result))


def table(rows, headers):
    """A plain-text table: rows of strings/numbers under ``headers``."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for j, r in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)

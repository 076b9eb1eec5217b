"""What this machine lets the process use: CPU cores, BLAS threads and memory.

One home for them, so training, the explanation threads, the grader's parallel
checks and the command line's size checks agree on them.

BLAS threads: OpenBLAS (numpy's BLAS) starts one thread per core, and its
threads spin for about 0.1 s after each call. On small matrix products the
second thread costs more than it gives, and when another process (or one of
handnet's own worker threads) holds the other core, a product waits for a
thread that cannot run: digits-size training took 5-10x longer with 2 threads
than with 1 on this 2-core machine under load. ``blas_threads_for`` says how
many threads pay for a given amount of work; ``limit_blas_threads`` applies it
for a block of code (through threadpoolctl, which changes the thread count of
the BLAS already loaded). A thread variable set by the user (THREAD_VARIABLES)
always wins: handnet then leaves BLAS alone.
"""

from __future__ import annotations

import contextlib
import functools
import os

__all__ = ["usable_cpus", "memory_limit", "check_allocation", "format_bytes", "THREAD_VARIABLES",
           "ONE_THREAD_BELOW", "threads_set_by_user", "blas_threads_for", "limit_blas_threads",
           "matmul_work", "blas_threads_for_rows"]

#: The environment variables with which a user picks the BLAS thread count (read when numpy loads).
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

#: Below this many multiply-adds per run of matrix products (one training step: three products per
#: layer), one BLAS thread is faster than two. Measured on this 2-core AVX-512 machine with
#: OpenBLAS 0.3.31: 13M (1797 x [64, 32, 10]) ran 2.3x slower on two threads, 36M (5000 x
#: [64, 32, 10]) 1.7x faster (benchmarks/README.md).
ONE_THREAD_BELOW = 25_000_000


def usable_cpus():
    """The CPU cores this process may run on (its affinity mask on Linux), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:                       # not on Linux
        return max(1, os.cpu_count() or 1)


def memory_limit():
    """The most bytes this process could allocate: the smaller of the physical memory
    (sysconf SC_PHYS_PAGES x SC_PAGE_SIZE) and the address-space limit (RLIMIT_AS);
    None if neither is known."""
    limits = []
    try:
        limits.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        pass
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            limits.append(soft)
    except (ImportError, OSError, ValueError):
        pass
    limits = [v for v in limits if v > 0]
    return min(limits) if limits else None


def format_bytes(n):
    """1536 -> '1.5 KiB'; powers of 1024 up to EiB and beyond."""
    n = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"


def check_allocation(n_bytes, name, what):
    """Refuse (ValueError naming ``name``) a request for more bytes than the process could
    ever allocate, before trying: numpy would otherwise raise MemoryError or, with
    overcommit, start and be killed. ``what`` says what the bytes are for."""
    limit = memory_limit()
    if limit is not None and n_bytes > limit:
        raise ValueError(f"{name}: {what} needs {format_bytes(n_bytes)}, more than this machine "
                         f"lets the process use ({format_bytes(limit)})")
    return n_bytes


def threads_set_by_user():
    """The first of THREAD_VARIABLES set in the environment, or None."""
    return next((name for name in THREAD_VARIABLES if os.environ.get(name)), None)


def blas_threads_for(multiply_adds):
    """The BLAS threads worth using for a run of matrix products with this many multiply-adds:
    1 below ONE_THREAD_BELOW, else every usable core; None when the user set a thread variable
    (leave BLAS as the user configured it)."""
    if threads_set_by_user():
        return None
    return 1 if multiply_adds < ONE_THREAD_BELOW else usable_cpus()


def limit_blas_threads(n):
    """A context manager inside which BLAS uses at most ``n`` threads (threadpoolctl), restored
    after. ``n`` None, or threadpoolctl not installed: BLAS is left as it is."""
    if n is None:
        return contextlib.nullcontext()
    controller = _thread_pools()
    if controller is None:
        return contextlib.nullcontext()
    return controller.limit(limits=int(n), user_api="blas")


def matmul_work(net, rows, passes):
    """Multiply-adds of ``passes`` runs of ``rows`` rows through every weight matrix:
    rows * passes * sum_l n_{l-1} n_l (a forward pass is 1 run; a training step is 3: z_l,
    dJ/dW_l and delta_l W_l^T; a backward pass started from K output units is K runs)."""
    return rows * passes * sum(n_in * n_out for n_in, n_out in net.shapes)


def blas_threads_for_rows(net, rows, passes):
    """A context in which BLAS uses the threads that pay for ``matmul_work(net, rows, passes)``:
    one for small problems (a second BLAS thread then costs more than it saves, and much more
    when another process holds the other core), every core for large ones; the user's
    OPENBLAS_NUM_THREADS (or OMP_/MKL_) always wins (blas_threads_for)."""
    return limit_blas_threads(blas_threads_for(matmul_work(net, rows, passes)))


@functools.lru_cache(maxsize=None)
def _thread_pools():
    """threadpoolctl's view of the thread pools loaded (numpy's BLAS is, once handnet is
    imported), found once: finding them takes 0.3-0.6 ms of CPU per call (more under load),
    limiting through the found ones 0.01 ms, so small explanations can afford a limit.
    None without threadpoolctl."""
    try:
        from threadpoolctl import ThreadpoolController   # here: `import handnet` stays light
    except ImportError:
        return None
    return ThreadpoolController()

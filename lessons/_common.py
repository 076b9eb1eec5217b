"""What every lesson shares: its command line, its output folder, PASS/FAIL lines and figures.

A lesson is one percent-format file that is a script and a notebook at once. It reads top to
bottom as the story: a markdown cell of prose, then the code cell that computes that step and
prints its numbers, then the next prose cell. Functions are defined at the top level of the cell
where they are first needed (so tests can import them); the cells that *run* the story are
guarded by ``if __name__ == "__main__":``, which is true under ``python -m lessons.NAME`` and in
a Jupyter kernel, and false when a test imports the module::

    # %%
    from lessons._common import start
    if __name__ == "__main__":
        run = start("taylor_series")         # parses --out DIR and --quick; in Jupyter: no argv

    # %% [markdown]
    # ## The coefficients ...

    # %%
    def taylor_coefficients(...): ...        # importable: tests use it

    if __name__ == "__main__":
        run.say(f"e^1 from 8 terms: {value:.6f}")
        run.expect("ln coefficients about 1 are 0, 1, -1/2, 1/3", ok, detail)
        run.claim("the post's reading holds", holds, detail)  # a FAIL here is a finding
        run.figure(fig, "partial_sums.png")   # saved as PNG; shown inline in a notebook

    # %%
    if __name__ == "__main__":
        run.end()    # summary; as a script, exits 0 if every expectation passed, else 1

Figures are built as ``matplotlib.figure.Figure`` objects (no pyplot, so no GUI backend is ever
needed), saved as PNG files into ``lesson-output/<name>/`` by default and, in a notebook,
displayed under the cell. ``--quick`` (or the environment variable HANDNET_LESSON_QUICK=1,
which also works for a notebook's kernel, or ``start(name, quick=True)`` in the first cell)
shrinks training and timing so that the tests can run every lesson in seconds.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import inspect
import os
import re
import sys
import textwrap
import warnings
from pathlib import Path

__all__ = ["start", "LessonRun", "QUICK_ENV", "CLAIM_TAG", "new_figure", "wrap_paragraphs", "in_notebook",
           "lesson_docstring", "train_noting_warnings"]

#: Set this environment variable to 1 to run every lesson in quick mode.
QUICK_ENV = "HANDNET_LESSON_QUICK"


#: Printed after PASS/FAIL on a verdict about a source's claim (LessonRun.claim), not the lesson's own.
CLAIM_TAG = "[source claim]"

#: Width the narrative is wrapped to.
WIDTH = 96

_LAYOUT_LINE = re.compile(r"^(\s|[-*\u2022] |\d+[.)] )")


def wrap_paragraphs(text, width=WIDTH):
    """Dedent ``text`` (as a docstring: the first line may start right after the quotes) and re-wrap
    each prose paragraph; lists, tables and indented lines are kept as they are."""
    paragraphs = re.split(r"\n\s*\n", inspect.cleandoc(text))
    out = []
    for paragraph in paragraphs:
        lines = paragraph.splitlines()
        if any(_LAYOUT_LINE.match(line) for line in lines):
            out.append(paragraph)
        else:
            out.append(textwrap.fill(" ".join(paragraph.split()), width, break_on_hyphens=False))
    return "\n\n".join(out)


def in_notebook():
    """True inside a Jupyter (IPython) kernel: figures are then shown inline and argv is not parsed."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and hasattr(shell, "kernel")


def lesson_docstring(name):
    """The module docstring of lessons/NAME.py, read from its source without importing (running) it."""
    spec = importlib.util.find_spec(f"lessons.{name}")
    if spec is None or not spec.origin:
        return ""
    return ast.get_docstring(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))) or ""


def _blas_threads_as_asked():
    """Apply OPENBLAS_NUM_THREADS (which lessons/__init__.py sets to 1 unless you chose) now.

    The variable only works when it is set before NumPy loads; a notebook kernel, or a first
    cell that imports NumPy before ``lessons``, loads it earlier. threadpoolctl (a handnet
    dependency) sets the limit on the loaded library, for the rest of the session."""
    wanted = os.environ.get("OPENBLAS_NUM_THREADS", "").strip()
    if wanted.isdigit() and int(wanted) > 0 and "numpy" in sys.modules:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=int(wanted), user_api="blas")


def train_noting_warnings(net, X, y, **options):
    """hn.train(net, X, y, progress=False, **options), with a TrainingWarning (hn.train's one line when a
    run looks stuck) kept as text for the narrative instead of shown as a warning (a stderr block in a
    notebook). -> (history, the warning's text or "")."""
    import handnet as hn
    from handnet.training import TrainingWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TrainingWarning)
        history = hn.train(net, X, y, progress=False, **options)
    return history, "; ".join(str(w.message) for w in caught if issubclass(w.category, TrainingWarning))


def _quick_from_environment():
    return os.environ.get(QUICK_ENV, "").strip().lower() not in ("", "0", "false", "no")


def new_figure(figsize=(6.0, 4.0)):
    """A pyplot-free Figure with constrained layout (works headless, nothing left open)."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


class LessonRun:
    """One run of a lesson: where its figures go, whether it is quick, what it expected.

    Attributes: name, out (Path), quick (bool), results (list of (label, passed, detail)),
    claims (the same for verdicts on a source's claims), written (list of Paths written).
    """

    def __init__(self, name, out, quick):
        self.name = name
        self.out = Path(out)
        self.quick = bool(quick)
        self.results = []
        self.claims = []
        self.written = []

    def say(self, text=""):
        """Print the narrative: dedented, each prose paragraph re-wrapped to WIDTH columns.

        Paragraphs are separated by blank lines. A paragraph is printed as it is (not
        re-wrapped) when a line starts with whitespace or a list marker ("- ", "* ", "1. "),
        so lists, tables and equations on their own lines keep their layout.
        """
        print(wrap_paragraphs(text))
        print()

    def table(self, frame, title=None):
        """Print a pandas DataFrame (or anything printable) as part of the narrative."""
        if title:
            print(title)
        text = frame.to_string() if hasattr(frame, "to_string") else str(frame)
        print(text)
        print()

    def expect(self, label, passed, detail=""):
        """Record and print one expectation: ``PASS label (detail)`` or ``FAIL label (detail)``."""
        passed = bool(passed)
        self.results.append((label, passed, detail))
        suffix = f" ({detail})" if detail else ""
        print(f"{'PASS' if passed else 'FAIL'}  {label}{suffix}")
        return passed

    def claim(self, label, holds, detail=""):
        """Record and print a verdict on a *source's* claim: ``PASS [source claim] label`` or ``FAIL ...``.

        Unlike expect(), a claim that does not hold is a finding, not a failure of the lesson:
        it is printed as FAIL and summarised by finish(), but does not change the exit status.
        """
        holds = bool(holds)
        self.claims.append((label, holds, detail))
        suffix = f" ({detail})" if detail else ""
        print(f"{'PASS' if holds else 'FAIL'}  {CLAIM_TAG} {label}{suffix}")
        return holds

    def path(self, filename):
        """The path of a file in this lesson's output folder (the folder is created)."""
        self.out.mkdir(parents=True, exist_ok=True)
        return self.out / filename

    def figure(self, fig, filename):
        """Save ``fig`` as ``out/filename`` (PNG, atomically) and print where it went."""
        from handnet.plots import save_figure

        path = save_figure(fig, self.path(filename))
        self.written.append(Path(path))
        print(f"wrote {path}")
        if in_notebook():
            from IPython.display import Image, display

            display(Image(filename=str(path)))
        return Path(path)

    def finish(self):
        """Print the summary line and return the exit status: 0 if every expectation passed."""
        failed = [label for label, passed, _ in self.results if not passed]
        total = len(self.results)
        if self.claims:
            held = [label for label, holds, _ in self.claims if holds]
            missed = [label for label, holds, _ in self.claims if not holds]
            print(f"\n{self.name}: {len(held)} of {len(self.claims)} source claims held"
                  + (f"; did not hold: {'; '.join(missed)}" if missed else ""))
        if failed:
            print(f"\n{self.name}: {len(failed)} of {total} expectations FAILED: " + "; ".join(failed))
            return 1
        print(f"\n{self.name}: all {total} expectations passed; figures in {self.out}/")
        return 0

    def end(self):
        """The lesson's last cell: print the summary (finish()); as a script, exit with its status.

        In a notebook the kernel keeps running (a SystemExit there would show as an error)."""
        status = self.finish()
        if not in_notebook():
            raise SystemExit(status)
        return status


def start(name, doc=None, argv=None, quick=None):
    """Parse the lesson's command line (--out DIR, --quick) and print its title; return a LessonRun.

    doc: the title text (default: the lesson's module docstring, read from its file). argv: the
    arguments (default: sys.argv[1:], except in a notebook, whose kernel's own arguments are not
    the lesson's). quick: True/False overrides --quick and the environment variable.
    """
    doc = lesson_docstring(name) if doc is None else doc
    first_line = (doc or name).strip().splitlines()[0]
    parser = argparse.ArgumentParser(
        prog=f"python -m lessons.{name}",
        description=first_line,
        epilog=f"Figures go to lesson-output/{name}/ unless --out is given. "
               f"Set {QUICK_ENV}=1 for the same effect as --quick.",
    )
    parser.add_argument("--out", metavar="DIR", default=os.path.join("lesson-output", name),
                        help="folder for the PNG figures (default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="shrink training and timing so the lesson runs in a few seconds")
    if argv is None and in_notebook():
        argv = []
    _blas_threads_as_asked()
    args = parser.parse_args(argv)
    if quick is None:
        quick = args.quick or _quick_from_environment()
    run = LessonRun(name, args.out, quick)
    title = f"Lesson: {name}" + ("  [quick mode]" if quick else "")
    print(title)
    print("=" * len(title))
    print(first_line)
    print()
    return run

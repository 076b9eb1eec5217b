"""handnet lessons: list the lessons, run one as a script, or write them as Jupyter notebooks."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys

from .._text import format_table
from ..exercises.grading.notebooks import KERNELSPEC
from ._common import EXIT_OK, add_command, output_folder

#: What to install for --notebook (jupytext), and what each extra module of lessons.REQUIRES comes in.
NOTEBOOKS_INSTALL = 'pip install "handnet[notebooks]"'
EXTRA_OF_MODULE = {"sklearn": "interop"}

DESCRIPTION = f"""\
The lessons: short stories in code that compute, print and plot one idea each
(a Taylor series, backpropagation checked against finite differences,
saliency maps, a numerically stable softmax, ...), in teaching order. Each
one is a Python file that is a script and a notebook at once.

  handnet lessons                  list them: number, name, what each is about
                                   and the extra packages it needs
  handnet lessons NAME             run one, as 'python -m lessons.NAME': the
                                   story is printed, PASS/FAIL lines say what
                                   was verified, figures go to lesson-output/NAME/
                                   (--out DIR), --quick shrinks training and
                                   timing; exit status 1 if an expectation failed
  handnet lessons NAME --notebook  write NAME.ipynb (into -o DIR, default: the
                                   current folder), to open in Jupyter, VS Code
                                   or Colab and run cell by cell, figures inline;
                                   without NAME, every lesson

--notebook needs jupytext: {NOTEBOOKS_INSTALL}. In a notebook, quick mode
is the environment variable HANDNET_LESSON_QUICK=1 of the kernel (or
start(NAME, quick=True) in its first cell)."""

EPILOG = """\
examples:
  handnet lessons
  handnet lessons variance_identity --quick
  handnet lessons taylor_series --out figures
  handnet lessons variance_identity --notebook -o notebooks
  handnet lessons --notebook -o notebooks          all of them
  jupyter lab notebooks/variance_identity.ipynb"""


def register(commands):
    """Add ``handnet lessons`` to the subcommands."""
    parser = add_command(commands, "lessons", run, description=DESCRIPTION, epilog=EPILOG,
                         help="list the lessons, run one, or write them as Jupyter notebooks")
    parser.add_argument("name", nargs="?", metavar="NAME", help="the lesson (see 'handnet lessons')")
    parser.add_argument("--notebook", action="store_true",
                        help="write NAME.ipynb (every lesson's, without NAME) instead of running it; needs jupytext")
    parser.add_argument("-o", "--out", default=None, metavar="DIR",
                        help="running: the folder for the figures (default: lesson-output/NAME); --notebook: "
                             "the folder for the .ipynb files (default: the current folder); created if needed")
    parser.add_argument("--quick", action="store_true",
                        help="run in quick mode: smaller training and timing, a few seconds per lesson")


def _lessons():
    """The installed ``lessons`` package (LESSONS, REQUIRES), or a one-line error."""
    try:
        import lessons
    except ImportError:
        raise ValueError("the lessons are not installed with this handnet: run 'pip install -e .' in the "
                         "project folder") from None
    return lessons


def lesson_name(name):
    """``name`` if it is a lesson, else ValueError listing the lessons."""
    known = _lessons().LESSONS
    if name not in known:
        raise ValueError(f"no lesson named {name!r}; the lessons are {', '.join(known)}")
    return name


def missing_modules(name):
    """The modules lesson ``name`` needs (lessons.REQUIRES) that cannot be imported here."""
    return [m for m in _lessons().REQUIRES.get(name, ()) if importlib.util.find_spec(m) is None]


def _needs(name):
    needs = []
    for module in _lessons().REQUIRES.get(name, ()):
        extra = EXTRA_OF_MODULE.get(module)
        note = f"{module} (handnet[{extra}])" if extra else module
        needs.append(note + (", missing" if importlib.util.find_spec(module) is None else ""))
    return "; ".join(needs) or "-"


def lesson_rows():
    """(number, name, first docstring line, needs) of every lesson, in teaching order; nothing is run."""
    from lessons._common import lesson_docstring

    return [(str(i), name, (lesson_docstring(name).strip().splitlines() or [""])[0], _needs(name))
            for i, name in enumerate(_lessons().LESSONS, 1)]


def _docstring_only(source):
    """The module docstring when ``source`` is nothing but a string literal, else None."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant) \
            and isinstance(tree.body[0].value.value, str):
        return tree.body[0].value.value
    return None


def lesson_notebook(name):
    """The notebook (nbformat NotebookNode) of lesson ``name``, converted by jupytext from the installed
    lesson's percent-format source: the leading module docstring becomes a markdown title cell, and the
    kernel is python3. ValueError (saying what to install) without jupytext."""
    lesson_name(name)
    try:
        import jupytext
    except ImportError:
        raise ValueError(f"writing notebooks needs jupytext: {NOTEBOOKS_INSTALL}") from None
    from nbformat.v4 import new_markdown_cell

    path = importlib.util.find_spec(f"lessons.{name}").origin
    notebook = jupytext.read(path, fmt="py:percent")
    first = notebook.cells[0] if notebook.cells else None
    doc = _docstring_only(first.source) if first is not None and first.cell_type == "code" else None
    if doc is not None:
        title, _, rest = doc.strip().partition("\n")
        notebook.cells[0] = new_markdown_cell(f"# {title.strip()}" + (f"\n\n{rest.strip()}" if rest.strip() else ""))
    notebook.metadata.pop("jupytext", None)          # a standalone notebook, not paired with the .py
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata.setdefault("language_info", {"name": "python"})
    return notebook


def write_notebook(name, folder):
    """Write lesson ``name`` as ``folder/NAME.ipynb`` (atomically); the path."""
    import nbformat

    from .._atomic import atomic_write

    data = nbformat.writes(lesson_notebook(name)).encode("utf-8")
    return atomic_write(os.path.join(folder, f"{name}.ipynb"), lambda fh: fh.write(data))


def run(args):
    """List, run, or write notebooks, as the options say."""
    lessons = _lessons()
    name = None if args.name is None else lesson_name(args.name)
    if args.notebook:
        if args.quick:
            raise ValueError("--quick: a notebook's quick mode is HANDNET_LESSON_QUICK=1 in its kernel's "
                             "environment (or start(NAME, quick=True) in its first cell)")
        folder = output_folder(args.out or ".", "--out")
        names = [name] if name else list(lessons.LESSONS)
        for each in names:
            print(f"wrote {write_notebook(each, folder)}")
        print("open with: jupyter lab (or jupyter notebook, VS Code, Colab after 'pip install' of handnet)")
        return EXIT_OK
    if name is None:
        if args.quick or args.out:
            raise ValueError("--quick and --out run a lesson: give its NAME (see 'handnet lessons')")
        print(format_table(("#", "lesson", "what it shows", "needs"), lesson_rows(), right=(0,)))
        print("\n'handnet lessons NAME' runs one; 'handnet lessons NAME --notebook' writes NAME.ipynb")
        return EXIT_OK
    missing = missing_modules(name)
    if missing:
        extras = ",".join(dict.fromkeys(EXTRA_OF_MODULE.get(m, m) for m in missing))
        raise ValueError(f"the lesson {name} needs {', '.join(missing)}: pip install \"handnet[{extras}]\"")
    command = [sys.executable, "-m", f"lessons.{name}"] + (["--quick"] if args.quick else []) + \
        (["--out", args.out] if args.out else [])
    return subprocess.run(command, stdin=subprocess.DEVNULL).returncode

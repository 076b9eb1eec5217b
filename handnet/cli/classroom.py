"""The classroom commands: handnet exercises, assign, validate, check, grade and gradescope."""

from __future__ import annotations

import argparse
import os
import re
import sys
import textwrap

import numpy as np

from .._text import format_table
from ..exercises import EXERCISES, get_exercise
from ..exercises.grading import assign, report, runner
from ..exercises.grading import grade as grading
from ._common import DEFAULT_OUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, add_command, output_folder

DEFAULT_GRADES_OUT = os.path.join(DEFAULT_OUT, "grades")
DEFAULT_CHECK_TIMEOUT = runner.DEFAULT_TIMEOUT
DEFAULT_VALIDATE_SEEDS = (1, 2)

EXERCISES_DESCRIPTION = """\
List the classroom exercises: each is a module whose solution parts the
student writes, scored by checks worth points. With a NAME, show that
exercise's task, the functions to write and the points of each check."""

EXERCISES_EPILOG = """\
examples:
  handnet exercises
  handnet exercises sigmoid"""

ASSIGN_DESCRIPTION = """\
Write the student's copy of an exercise into a folder:

  NAME.py     the reference module with every solution part replaced by
              raise NotImplementedError("<function>: write this part");
              signatures, docstrings and given helpers are kept
  README.md   the task with its equations, the functions to write, the
              points per check and the self-check command

  or, --notebook, NAME.ipynb: the task, the answer cell (the same stub), a
  self-check cell (runs 'handnet check' in a subprocess, never in the
  student's kernel) and a cell that saves NAME.py, the file handed in

A file already in the folder with other content (a student's work) is
never overwritten: the command stops and writes nothing, unless --force,
which first renames the old file to FILE.bak."""

ASSIGN_EPILOG = """\
examples:
  handnet assign sigmoid -o hw1
  handnet assign sigmoid -o hw1 --notebook
  handnet assign backprop -o hw2 --force"""

VALIDATE_DESCRIPTION = f"""\
Check the teacher's side of the exercises (all of them, or those named):
every check must PASS on the reference solution and be TODO on a fresh
student copy (written to a temporary folder), for the public run and for
the hidden variants --seed. The student copy must also define the same
functions with the same docstrings. Prints a table and what is wrong;
exit status {EXIT_FAILED} if anything is off."""

VALIDATE_EPILOG = """\
examples:
  handnet validate
  handnet validate sigmoid --seed 1 2 3"""

CHECK_DESCRIPTION = f"""\
Check your solution: run every check of the exercise your file is for (its
first line, '# handnet exercise: NAME', says which; of a notebook, its
answer cell is checked). Each check runs here and calls your functions in
a separate, contained process with a time and memory limit, so a crash or
an endless loop only fails that check. Your file may use numpy and the
standard library; importing handnet is refused.

Prints a table (exercise, check, PASS/FAIL/TODO, points, time), explains
every failure (the worst entry, a hint, or the line of your code that
raised), and writes FILE.results.json next to the file, shaped like
Gradescope's results.json. TODO means 'not written yet' (0 points).
Exit status 0 when every check passes, {EXIT_FAILED} otherwise."""

CHECK_EPILOG = """\
examples:
  handnet check sigmoid.py
  handnet check sigmoid.py --seed 3          other shapes and values, as when graded
  handnet check sigmoid.py cost.py --timeout 60
  handnet check sigmoid.ipynb                the answer cell of a saved notebook"""

GRADE_DESCRIPTION = """\
Grade a folder of submissions, one subfolder per student. Every .py file
in a student's folder whose first line is '# handnet exercise: NAME' is
run through that exercise's checks on the hidden variant --seed: shapes
and values drawn from the seed at grading time, so hard-coded public
answers do not pass (a gradient check needs no answer key). The exercises
graded are those of --exercises, or else those someone submitted; a
student without a file for one of them gets 0 points and FAIL "no file
submitted" on its checks, so everyone has the same maximum.

The checks run here; a student's code runs only in a contained child that
answers calls with plain data (as root: the user nobody in its own
namespaces, with every file read-only; the header says what this machine
gives). The files are copied before any code runs, and graded from the
copy. A near-copy of the reference solution is flagged (column flag).

Writes to --out: grades.csv (student, exercise, check, status, score,
max_score, flag, note) and STUDENT.json per student (shaped like
Gradescope's results.json), each student's as soon as they are done: run
the same command again after an interruption and the students already
graded (with unchanged files) are not run again. A notebook (.ipynb) is
graded on its answer cell, read as JSON; beside NAME.py, the .py is graded
and the notebook noted. Every note printed (a file without a header, a second file for an exercise, a file of an
exercise not graded...) is also a NOTE row of grades.csv and in that
student's JSON."""

GRADE_EPILOG = """\
examples:
  handnet grade submissions --seed 7
  handnet grade submissions --seed 7 --exercises sigmoid,cost
  handnet grade submissions --seed 7 --out grades-hw1 --timeout 60 --jobs 4"""

GRADESCOPE_DESCRIPTION = """\
Write an autograder for Gradescope's programming assignments: the exercises
NAME..., every submission graded on the hidden variant --seed. In --out:

  setup.sh          run once when Gradescope builds the image: installs the
                    wheel below (with numpy, pandas... from PyPI) into a
                    virtual environment, then runs 'handnet validate' there
  run_autograder    run per submission: grades /autograder/submission/ like
                    'handnet grade --exercises NAME,...' grades one student,
                    writes /autograder/results/results.json
  handnet-*.whl     a wheel of this handnet (the checks you validated)
  handnet-autograder.json  the exercises, the seed, --timeout, --jobs, --memory
  README.md         these steps, and how to try the bundle on your machine
  autograder.zip    the four files above, at the root of the zip: upload it

HANDNET_AUTOGRADER_ROOT (default /autograder) and HANDNET_AUTOGRADER_PYTHON
run it on your machine against a folder laid out like Gradescope's (the
bundle's README.md says how)."""

GRADESCOPE_EPILOG = """\
examples:
  handnet gradescope sigmoid cost --seed 7 -o gs-hw1
  handnet gradescope backprop_one_hidden --seed 12 -o gs-hw3 --timeout 60 --memory 1G"""


def register(commands):
    """Add the classroom commands to the subcommands."""
    exercises = add_command(
        commands, "exercises", run_exercises, help="list the classroom exercises and their points",
        description=EXERCISES_DESCRIPTION, epilog=EXERCISES_EPILOG)
    exercises.add_argument("name", nargs="?", metavar="NAME", help="show this exercise's task and checks")

    assign = add_command(
        commands, "assign", run_assign, help="write the student's copy of an exercise (stub module and README)",
        description=ASSIGN_DESCRIPTION, epilog=ASSIGN_EPILOG)
    assign.add_argument("name", metavar="NAME", help="the exercise (see 'handnet exercises')")
    assign.add_argument("-o", "--out", required=True, metavar="DIR",
                        help="the folder to write NAME.py and README.md into; created if needed")
    assign.add_argument("--notebook", action="store_true",
                        help="write NAME.ipynb (task, answer cell, self-check and save cells) instead of NAME.py "
                             "and README.md")
    assign.add_argument("--force", action="store_true",
                        help="replace files that differ from the student's copy (the old ones are kept as "
                             "FILE.bak)")

    validate = add_command(
        commands, "validate", run_validate, help="check that every reference passes and every untouched copy is TODO",
        description=VALIDATE_DESCRIPTION, epilog=VALIDATE_EPILOG)
    validate.add_argument("names", nargs="*", metavar="NAME", help="the exercises to validate (default: all)")
    validate.add_argument("--seed", type=int, nargs="+", default=list(DEFAULT_VALIDATE_SEEDS), metavar="N",
                          help="the hidden variants tried besides the public run (default: %s)"
                               % " ".join(map(str, DEFAULT_VALIDATE_SEEDS)))
    add_run_options(validate)

    check_cmd = add_command(
        commands, "check", run_check, help="check a solution file: a table of PASS/FAIL/TODO and FILE.results.json",
        description=CHECK_DESCRIPTION, epilog=CHECK_EPILOG)
    check_cmd.add_argument("files", nargs="+", metavar="FILE",
                           help="your solution file(s), e.g. sigmoid.py written by 'handnet assign', or a "
                                "saved sigmoid.ipynb (its answer cell is checked)")
    check_cmd.add_argument("--seed", type=int, default=None, metavar="N",
                           help="run a hidden variant: other shapes and values drawn from N "
                                "(default: the public run with fixed inputs)")
    add_run_options(check_cmd)

    grade = add_command(
        commands, "grade", run_grade, help="grade a folder of submissions: grades.csv and a JSON per student",
        description=GRADE_DESCRIPTION, epilog=GRADE_EPILOG)
    grade.add_argument("folder", metavar="DIR", help="the submissions: one subfolder per student")
    grade.add_argument("--seed", type=int, required=True, metavar="N",
                       help="the hidden variant every check runs on; pick it at grading time")
    grade.add_argument("--out", default=DEFAULT_GRADES_OUT, metavar="DIR",
                       help="folder for grades.csv and STUDENT.json; created if needed, existing files are "
                            "replaced (default: %(default)s)")
    grade.add_argument("--exercises", type=names_option, default=None, metavar="A,B",
                       help="the exercises to grade, comma-separated: every student gets their rows, and "
                            "a file for any other exercise is a note (default: those someone submitted)")
    add_run_options(grade)
    grade.add_argument("--no-progress", action="store_true", help="no progress bar")

    gradescope = add_command(
        commands, "gradescope", run_gradescope, help="write a Gradescope autograder (setup.sh, run_autograder, "
                                                     "autograder.zip) for some exercises",
        description=GRADESCOPE_DESCRIPTION, epilog=GRADESCOPE_EPILOG)
    gradescope.add_argument("names", nargs="+", metavar="NAME", help="the exercises graded")
    gradescope.add_argument("--seed", type=int, required=True, metavar="N",
                            help="the hidden variant every submission is graded on")
    gradescope.add_argument("-o", "--out", required=True, metavar="DIR",
                            help="the folder to write the bundle into; created if needed, its files replaced")
    add_run_options(gradescope)


def add_run_options(parser):
    """--timeout and --jobs, shared by the commands that run checks."""
    group = parser.add_argument_group("running the checks")
    group.add_argument("--timeout", type=float, default=DEFAULT_CHECK_TIMEOUT, metavar="SECONDS",
                       help="time limit of each check, process start included; a check that takes "
                            "longer FAILs (an infinite loop?) (default: %(default)g)")
    group.add_argument("--jobs", type=int, default=None, metavar="N",
                       help="checks run at the same time, each in its own process (default: the number "
                            "of CPUs)")
    group.add_argument("--memory", default=DEFAULT_MEMORY, metavar="SIZE",
                       help="address space limit of the process running the student's code, e.g. 2G or "
                            "512M (default: %(default)s)")


#: --memory's units.
_UNITS = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}
DEFAULT_MEMORY = "2G"


def memory_option(text):
    """Bytes from --memory: a number with an optional K, M or G (binary units), at least 64M."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?)i?B?\s*", str(text), re.I)
    if not match:
        raise ValueError(f"--memory: expected a size like 2G or 512M, got {text!r}")
    size = int(float(match.group(1)) * _UNITS[match.group(2).upper()])
    if size < 64 * 1024 ** 2:
        raise ValueError(f"--memory: expected at least 64M (Python and numpy need that much), got {text!r}")
    return size


def run_options(args):
    """(timeout, jobs, memory in bytes) from --timeout, --jobs and --memory, with one-line errors."""
    timeout, jobs = args.timeout, args.jobs
    if not (timeout > 0 and np.isfinite(timeout)):
        raise ValueError(f"--timeout: expected a positive number of seconds, got {timeout:g}")
    if jobs is not None and jobs < 1:
        raise ValueError(f"--jobs: expected a positive number of checks at once, got {jobs}")
    return timeout, jobs, memory_option(args.memory)


def names_option(text):
    """'a,b' -> ['a', 'b'] (argparse type of --exercises); the names are checked by grade."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected exercise names separated by commas, got {text!r}")
    return names


def seed_option(seed, name="--seed"):
    if seed is not None and seed < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {seed}")
    return seed


def run_exercises(args):
    if args.name is not None:
        exercise = get_exercise(args.name)
        checks = f"{len(exercise.checks)} check{'s' if len(exercise.checks) != 1 else ''}"
        print(f"{exercise.name}: {exercise.title}  (worth {exercise.max_score:g} points, {checks})")
        print(f"functions to write: {', '.join(exercise.functions)}\n")
        if exercise.statement.strip():
            print(exercise.statement.strip() + "\n")
        print("checks:")
        print(textwrap.indent(format_table(("check", "points"), [(c.name, f"{c.points:g}")
                                                                 for c in exercise.checks], right=(1,)), "  "))
        print(f"\nhandnet assign {exercise.name} -o DIR   writes the student's copy")
        return EXIT_OK
    if not EXERCISES:
        print("no exercises are registered")
        return EXIT_OK
    rows = [(e.name, e.title, len(e.checks), f"{e.max_score:g}") for e in EXERCISES.values()]
    print(format_table(("exercise", "title", "checks", "points"), rows, right=(2, 3)))
    total = sum(e.max_score for e in EXERCISES.values())
    print(f"{len(EXERCISES)} exercises, {total:g} points in all")
    print("'handnet exercises NAME' shows the task; 'handnet assign NAME -o DIR' writes the student's copy")
    return EXIT_OK


def run_assign(args):
    exercise = get_exercise(args.name)
    written, backups = assign.write_assignment(exercise.name, args.out, force=args.force, notebook=args.notebook)
    print(f"wrote the student's copy of {exercise.name!r} ({exercise.title}) to {args.out}{os.sep}")
    for path in written:
        print(f"  {path}")
    for backup in backups:
        print(f"kept the file it replaced as {backup}")
    if args.notebook:
        print(f"the student opens {exercise.name}.ipynb, writes {', '.join(exercise.functions)} in its answer "
              f"cell and runs the self-check cell; the save cell writes {exercise.name}.py to hand in")
    else:
        print(f"the student writes {', '.join(exercise.functions)} in {exercise.name}.py, then runs:")
        print(f"  handnet check {exercise.name}.py")
    return EXIT_OK


def run_validate(args):
    timeout, jobs, memory = run_options(args)
    seeds = [seed_option(seed) for seed in dict.fromkeys(args.seed)]
    names = [get_exercise(name).name for name in dict.fromkeys(args.names)] or None
    validations = assign.validate(names, seeds=seeds, timeout=timeout, jobs=jobs, progress=None, memory=memory)
    header = ("exercise", "copy", "run", "PASS", "FAIL", "TODO", "expected", "result")
    rows = []
    for v in validations:
        for copy, seed, counts, n, ok in v.rows:
            rows.append((v.exercise, copy, "public" if seed is None else f"seed {seed}",
                         str(counts["PASS"]), str(counts["FAIL"]), str(counts["TODO"]),
                         f"{n} {'PASS' if copy == 'reference' else 'TODO'}", "ok" if ok else "WRONG"))
        if not v.rows:
            rows.append((v.exercise, "-", "-", "-", "-", "-", "-", "WRONG"))
    print(format_table(header, rows, right=(3, 4, 5)))
    bad = [v for v in validations if not v.ok]
    for v in bad:
        print(f"\n{v.exercise}:")
        for problem in v.problems:
            print(f"  {problem}")
    runs = "the public run" + "".join(f", seed {s}" for s in seeds)
    if bad:
        print(f"\n{len(bad)} of {len(validations)} exercises are not valid ({runs})")
        return EXIT_FAILED
    which = f"all {len(validations)} exercises" if len(validations) > 1 else f"'{validations[0].exercise}' is"
    print(f"{which} valid: references PASS and student copies TODO on {runs}")
    return EXIT_OK


def run_check(args):
    timeout, jobs, memory = run_options(args)
    seed = seed_option(args.seed)
    files = list(dict.fromkeys(args.files))
    exercises = [runner.exercise_for_file(path) for path in files]      # every file is fine before any runs
    run = "the public run" if seed is None else f"hidden variant seed {seed}"
    everything_passed = True
    for path, exercise in zip(files, exercises):
        print(f"checking {path}: exercise {exercise.name!r} ({exercise.title}), {run}, "
              f"{len(exercise.checks)} checks, your code in a contained process for each")
        results = runner.run_file(path, seed=seed, timeout=timeout, jobs=jobs, memory=memory)
        print(report.format_results(results))
        title = f"{os.path.basename(path)}, " + ("public run" if seed is None else f"seed {seed}")
        written = report.write_results_json(results, report.results_path_for(path), title=title)
        print(f"wrote {written}")
        everything_passed &= all(r.passed for r in results)
        if len(files) > 1:
            print()
    return EXIT_OK if everything_passed else EXIT_FAILED


def run_grade(args):
    from ..exercises.grading import sandbox

    timeout, jobs, memory = run_options(args)
    seed = seed_option(args.seed)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise ValueError(f"--out: {args.out!r} exists and is not a folder")
    found, _ = grading.find_submissions(args.folder)
    n_files = sum(len(files) for files in found.values())
    print(f"grading {len(found)} students, {n_files} files in {args.folder} on seed {seed} "
          f"(each check in its own process, time limit {timeout:g}s)")
    print(f"containment: {sandbox.containment().sentence}", flush=True)
    if args.exercises is not None:
        args.exercises = [get_exercise(name).name for name in args.exercises]
    try:
        grades = grading.grade(args.folder, seed, out_dir=args.out, timeout=timeout, jobs=jobs,
                               progress=False if args.no_progress else None, memory=memory,
                               exercises=args.exercises)
    except grading.GradingInterrupted as exc:
        print(f"handnet grade: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if grades.resumed:
        print(f"taken from the previous run (unchanged files, same seed): {', '.join(grades.resumed)}")
    for note in grades.notes:
        print(f"note: {note}")
    for (student, exercise), flag in grades.flags.items():
        print(f"flag: {student}, {exercise}: {flag}")
    print(grading.format_summary(grades))
    print(f"wrote {len(grades.paths)} files to {args.out}{os.sep}")
    for path in grades.paths[:3]:
        print(f"  {path}")
    if len(grades.paths) > 3:
        print(f"  ... and {len(grades.paths) - 3} more")
    return EXIT_OK


def run_gradescope(args):
    from ..exercises.grading import gradescope

    names = [get_exercise(name).name for name in dict.fromkeys(args.names)]
    seed = seed_option(args.seed)
    timeout, jobs, memory = run_options(args)
    output_folder(args.out)
    paths = gradescope.write_bundle(names, seed, args.out, timeout=timeout, jobs=jobs, memory=memory)
    points = sum(EXERCISES[name].max_score for name in names)
    print(f"wrote the Gradescope autograder for {', '.join(names)} ({points:g} points, graded on seed {seed}) "
          f"to {args.out}{os.sep}")
    for path in paths:
        print(f"  {path}")
    print(f"upload {paths[-1]} as the autograder (base image Ubuntu 22.04 or newer)")
    return EXIT_OK

"""The machinery that runs grading checks on students' files; it decides, the student's code only answers.

    markers.py   the student's copy of a reference (solution markers -> NotImplementedError)
    worker.py    the contained child: loads one student's file, answers calls with plain data
    wire.py      what crosses between them: JSON and .npy bytes, nothing that runs
    guards.py    the child's resource limits and audit hook, set before any student code runs
    sandbox.py   what the child runs under (user, namespaces) and how its whole tree is ended
    session.py   the grading side of one child: the ``student`` proxy the checks call
    functions.py the f a student's code is lent: checked, evaluated and counted on the grading side
    runner.py    one check, or many in parallel: CheckResult
    report.py    the results table and a results.json shaped like Gradescope's
    assign.py    the teacher's side: handnet assign, handnet validate
    grade.py     handnet grade: a class's submissions, snapshotted, resumable
    copies.py    near-copies of the reference solution, by normalised tokens
    files.py     reading a submission: regular files only, never blocking
    gradescope.py  handnet gradescope: the autograder bundle, and the grading it runs there
    notebooks.py the student's notebook (assign --notebook), its self-check, a handed-in .ipynb read as data
"""

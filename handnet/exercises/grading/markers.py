"""Solution markers: from the teacher's reference module to the student's copy.

A reference module marks each part the student writes with two comment lines,
at the indentation of the code they enclose, inside a function body and after
its docstring::

    # handnet exercise: sigmoid
    import numpy as np

    def sigmoid(z):
        \"\"\"g(z) = 1 / (1 + exp(-z)), element-wise; z of any shape.\"\"\"
        # BEGIN SOLUTION
        return 1.0 / (1.0 + np.exp(-z))
        # END SOLUTION

``make_stub(text)`` replaces each block, markers included, by one line at the
block's indentation::

        raise NotImplementedError("sigmoid: write this part")

and keeps every other byte as it was: the header, the imports, signatures,
docstrings, comments, given helpers, tabs and CRLF line endings. Markers are
comments as Python's tokenizer sees them, so a docstring that *mentions*
"# BEGIN SOLUTION" is not a marker. Nested, unclosed or stray markers, a block
outside a function body, a block that cuts a statement in two or swallows the
docstring are a ``MarkerError`` (a ValueError) that names the line.

``exercise_name_of(path)`` (or ``exercise_name_of(text=source)``) reads the header line
``# handnet exercise: NAME`` without importing the file.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from dataclasses import dataclass

__all__ = ["MarkerError", "SolutionBlock", "find_solution_blocks", "make_stub", "exercise_name_of",
           "HEADER_PREFIX", "BEGIN", "END"]

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
HEADER_PREFIX = "# handnet exercise:"

#: A marker comment: one or more '#', then BEGIN/END SOLUTION, nothing else.
_MARKER = re.compile(r"#+[ \t]*(BEGIN|END)[ \t]+SOLUTION[ \t]*")
#: Something that looks like a marker but is not one on its own (e.g. '# BEGIN SOLUTION here').
_LOOKS_LIKE_MARKER = re.compile(r"(BEGIN|END)[ \t]+SOLUTION", re.IGNORECASE)
#: The header line naming the exercise.
_HEADER = re.compile(r"^[ \t]*#[ \t]*handnet exercise:[ \t]*([A-Za-z0-9_.\-]+)[ \t]*$")
#: How many lines from the top the header may be found in (after a shebang or an encoding line).
HEADER_LINES = 5


class MarkerError(ValueError):
    """A problem with the solution markers of a reference module; ``.line`` is the 1-based line."""

    def __init__(self, line, message):
        self.line = line
        super().__init__(f"line {line}: {message}")


@dataclass(frozen=True)
class SolutionBlock:
    """One marked block: the lines of its BEGIN and END markers (1-based, inclusive), the
    whitespace in front of the markers and the name of the function it sits in."""

    begin: int
    end: int
    indent: str
    function: str

    def stub_line(self, newline="\n"):
        """The line that replaces the block in the student's copy."""
        return f'{self.indent}raise NotImplementedError("{self.function}: write this part"){newline}'


def split_lines(text):
    """``text`` cut after every '\\n' (so '\\r\\n' stays with its line); line i is element i - 1.

    Not ``str.splitlines``: that also cuts at form feeds and other characters
    Python's own line numbers do not count.
    """
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def _marker_comments(text):
    """[(line, 'BEGIN' | 'END')] for every marker comment, in order.

    Uses the tokenizer, so only real comments count (not text inside strings);
    a marker must be alone on its line.
    """
    markers = []
    lines = split_lines(text)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as exc:
        line = getattr(exc, "lineno", None) or (exc.args[1][0] if len(exc.args) > 1 else 1)
        raise MarkerError(line, f"the file cannot be read as Python ({exc.args[0]})") from None
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        row = tok.start[0]
        match = _MARKER.fullmatch(tok.string.rstrip())
        alone = lines[row - 1].strip() == tok.string.strip()
        if match and alone:
            markers.append((row, match.group(1)))
        elif match or _LOOKS_LIKE_MARKER.search(tok.string):
            what = "BEGIN" if "BEGIN" in tok.string.upper() else "END"
            raise MarkerError(row, f"a solution marker must be a line of its own, exactly "
                                   f"'{BEGIN if what == 'BEGIN' else END}' (indented like the code it "
                                   f"encloses); got {lines[row - 1].strip()!r}")
    return markers


def _pair_markers(markers):
    """[(begin, end)] from the marker list; MarkerError for nested, unclosed or stray markers."""
    pairs, open_line = [], None
    for line, kind in markers:
        if kind == "BEGIN":
            if open_line is not None:
                raise MarkerError(line, f"'{BEGIN}' inside the block opened at line {open_line}: "
                                        f"blocks cannot be nested; close it with '{END}' first")
            open_line = line
        else:
            if open_line is None:
                raise MarkerError(line, f"'{END}' without a '{BEGIN}' before it")
            pairs.append((open_line, line))
            open_line = None
    if open_line is not None:
        raise MarkerError(open_line, f"'{BEGIN}' is never closed: add '{END}' after the solution")
    return pairs


def _functions(tree):
    """Every function definition in the module (nested ones too)."""
    return [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _width(line):
    """How far ``line`` is indented (a tab counts as one character, like the markers' own check)."""
    return len(line) - len(line.lstrip(" \t"))


def _extended_end(node, lines):
    """The last line of ``node`` counting the comment and blank lines that close its body.

    The AST ends a compound statement at its last statement, so an END marker
    after it would look outside; comments indented deeper than the statement
    still belong to it.
    """
    end = node.end_lineno
    if not hasattr(node, "body"):
        return end
    last = end
    for number in range(end + 1, len(lines) + 1):
        text = lines[number - 1]
        stripped = text.strip()
        if not stripped:
            continue
        if not stripped.startswith("#") or _width(text) <= node.col_offset:
            break
        last = number
    return last


def _enclosing_function(functions, begin, end, lines):
    """The innermost function whose body holds lines begin..end; None if there is none."""
    best = None
    for fn in functions:
        if fn.lineno < begin and end <= _extended_end(fn, lines):
            if best is None or fn.lineno > best.lineno:
                best = fn
    return best


def _check_block(fn, begin, end, lines):
    """MarkerError if the block cuts a statement of ``fn`` in two or swallows its docstring."""
    body = fn.body
    if ast.get_docstring(fn, clean=False) is not None and begin <= body[0].lineno <= end:
        raise MarkerError(begin, f"the block at lines {begin}-{end} holds the docstring of "
                                 f"{fn.name}(); put '{BEGIN}' after the docstring")
    for node in ast.walk(fn):
        if not isinstance(node, ast.stmt) or node is fn:
            continue
        s, e = node.lineno, node.end_lineno
        inside = begin < s and e < end
        around = s < begin and end <= _extended_end(node, lines)
        apart = e < begin or s > end
        if not (inside or around or apart):
            raise MarkerError(begin, f"the block at lines {begin}-{end} cuts the statement at lines "
                                     f"{s}-{e} of {fn.name}() in two: a block must enclose whole "
                                     "statements, indented like them")


def find_solution_blocks(text):
    """The marked blocks of a reference module, in order, as ``SolutionBlock`` s.

    ``text`` is the module's source (a str). MarkerError (a ValueError naming
    the line) for: nested, unclosed or stray markers; a marker that is not a
    line of its own; BEGIN and END indented differently; a block outside a
    function body; a block that cuts a statement or holds the docstring; a
    file that is not valid Python.
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected the module's source as a str, got {type(text).__name__}")
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise MarkerError(exc.lineno or 1, f"the file is not valid Python: {exc.msg}") from None
    pairs = _pair_markers(_marker_comments(text))
    if not pairs:
        return []
    lines = split_lines(text)
    functions = _functions(tree)
    blocks = []
    for begin, end in pairs:
        indent = re.match(r"[ \t]*", lines[begin - 1]).group(0)
        end_indent = re.match(r"[ \t]*", lines[end - 1]).group(0)
        if indent != end_indent:
            raise MarkerError(end, f"'{END}' is indented differently from the '{BEGIN}' at line "
                                   f"{begin}: {end_indent!r} against {indent!r}")
        fn = _enclosing_function(functions, begin, end, lines)
        if fn is None:
            raise MarkerError(begin, f"the block at lines {begin}-{end} is not inside a function body; "
                                     "solution blocks go between a function's docstring and its end")
        _check_block(fn, begin, end, lines)
        blocks.append(SolutionBlock(begin, end, indent, fn.name))
    return blocks


def make_stub(text):
    """The student's copy of a reference module: each marked block replaced by
    ``raise NotImplementedError("<function>: write this part")`` at its indentation.

    Every line outside the blocks is kept byte for byte (line endings too); the
    new line ends like the BEGIN marker's line. MarkerError as in
    ``find_solution_blocks``. A text without markers comes back unchanged.
    """
    blocks = find_solution_blocks(text)
    lines = split_lines(text)
    out, line = [], 1
    for block in blocks:
        out.extend(lines[line - 1:block.begin - 1])
        begin_line = lines[block.begin - 1]
        newline = "\r\n" if begin_line.endswith("\r\n") else "\n"
        out.append(block.stub_line(newline))
        line = block.end + 1
    out.extend(lines[line - 1:])
    stub = "".join(out)
    if blocks:
        try:
            compile(stub, "<stub>", "exec", dont_inherit=True)
        except SyntaxError as exc:               # should not happen after the checks above
            raise MarkerError(exc.lineno or 1, f"the student's copy would not compile: {exc.msg}") from None
    return stub


def exercise_name_of(path=None, *, text=None):
    """The NAME in the header line ``# handnet exercise: NAME``; None when there is none.

    Give either ``path`` (a file path, str or os.PathLike: the file is read, never imported)
    or ``text=`` (the source itself, a str); a path is never guessed from what it looks like
    (a folder named '#1' is a path). The header is looked for in the first few lines (after a
    shebang or an encoding line). OSError when a path cannot be read;
    ``files.NotRegularFile`` (a ValueError) when it is not a regular file (a FIFO would block).
    """
    if (path is None) == (text is None):
        raise TypeError("exercise_name_of: expected a path or text=, exactly one of them")
    if text is not None:
        if not isinstance(text, str):
            raise TypeError(f"text: expected the source as a str, got {type(text).__name__}")
        head = text
    else:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path: expected a file path (str or os.PathLike), got {type(path).__name__}")
        from .notebooks import read_submission          # a notebook: its answer cell

        head = read_submission(path)[:8192].decode("utf-8", errors="replace")
    if head.startswith("\ufeff"):                  # a UTF-8 byte-order mark
        head = head[1:]
    for line in split_lines(head)[:HEADER_LINES]:
        match = _HEADER.match(line.rstrip("\r\n"))
        if match:
            return match.group(1)
    return None

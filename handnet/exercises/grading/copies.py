"""Near-copies of the reference solution: a flag for the teacher to look at, never a grade.

The installed handnet package holds every reference solution, so a student can
hand one in as their own. ``copy_similarity(submission, reference)`` compares
the reference's solution blocks (what the student had to write) with the
submission, token by token after normalising what a copy can change for free:

* comments, blank lines, indentation and line breaks are dropped;
* every name that is not a keyword, a builtin or an attribute (``np.exp`` keeps
  ``exp``) becomes ``ID``, so renaming variables does not hide a copy;
* strings become ``STR``; numbers are written in one form (``1.0`` and ``1.``).

The similarity is the fraction of the solution's tokens found, in order, in
the submission (difflib's matching blocks). ``near_copy`` flags a submission
when that fraction is at least ``COPY_THRESHOLD`` and the solution has at
least ``MIN_TOKENS`` tokens (a two-token answer is everybody's answer).
"""

from __future__ import annotations

import builtins
import difflib
import io
import keyword
import textwrap
import tokenize

from .markers import find_solution_blocks, split_lines

__all__ = ["normalised_tokens", "copy_similarity", "near_copy", "COPY_THRESHOLD", "MIN_TOKENS"]

#: A submission holding at least this fraction of the solution's tokens, in order, is flagged.
COPY_THRESHOLD = 0.9
#: Solutions shorter than this many tokens are never flagged.
MIN_TOKENS = 25
_KEEP = set(keyword.kwlist) | set(dir(builtins))
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
         tokenize.ENCODING, tokenize.ENDMARKER}


def normalised_tokens(source):
    """The tokens of ``source`` (a str) with names, strings and layout normalised; [] if it does not
    tokenize."""
    out, previous = [], None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in _SKIP:
                continue
            if tok.type == tokenize.NAME and tok.string not in _KEEP and previous != ".":
                text = "ID"
            elif tok.type == tokenize.STRING:
                text = "STR"
            elif tok.type == tokenize.NUMBER:
                try:
                    text = repr(complex(tok.string.replace("_", ""))) if "j" in tok.string.lower() \
                        else repr(float(tok.string.replace("_", "")))
                except ValueError:
                    text = tok.string
            else:
                text = tok.string
            out.append(text)
            previous = tok.string
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return out
    return out


def _solution_tokens(reference):
    """The normalised tokens of the reference's solution blocks, in order."""
    lines = split_lines(reference)
    tokens = []
    for block in find_solution_blocks(reference):
        body = "".join(lines[block.begin:block.end - 1])
        tokens += normalised_tokens(textwrap.dedent(body))
    return tokens


def copy_similarity(submission, reference):
    """(fraction of the reference solution's tokens found in order in ``submission``, their number)."""
    solution = _solution_tokens(reference)
    if not solution:
        return 0.0, 0
    mine = normalised_tokens(submission)
    matcher = difflib.SequenceMatcher(None, mine, solution, autojunk=False)
    found = sum(block.size for block in matcher.get_matching_blocks())
    return found / len(solution), len(solution)


def near_copy(submission, reference):
    """A sentence for the teacher when ``submission`` is a near-copy of the reference solution, else None."""
    similarity, size = copy_similarity(submission, reference)
    if size < MIN_TOKENS or similarity < COPY_THRESHOLD:
        return None
    return (f"near-copy of the reference solution: {similarity:.0%} of its {size} solution tokens appear in "
            "order (names, comments and layout ignored); look at it before trusting the grade")

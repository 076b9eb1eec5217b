"""Plain-text tables for the terminal: one function, used by every command that prints one."""

from __future__ import annotations

__all__ = ["format_table"]


def format_table(header, rows, right=(), rule=True):
    """Columns padded to their widest cell, two spaces apart.

    header  sequence of column titles (str)
    rows    sequence of rows, each a sequence of cells (converted with str)
    right   indices of the columns aligned to the right (numbers); others align left
    rule    a line of dashes under the header
    """
    table = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    if rule:
        table.insert(1, ["-" * w for w in widths])
    right = set(right)
    return "\n".join("  ".join(cell.rjust(w) if i in right else cell.ljust(w)
                               for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
                     for row in table)

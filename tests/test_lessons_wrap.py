"""The lessons' narrative wrapping never splits a path or a hyphenated word across two lines."""

import pytest

from lessons._common import WIDTH, wrap_paragraphs

PATH = "lesson-output/saving_loading/model.npz"


@pytest.mark.parametrize("lead", range(1, WIDTH + 1))
def test_a_hyphenated_path_is_never_split_at_any_position_in_the_line(lead):
    # The path starts after `lead` characters, so across the parametrisation its hyphen falls on
    # every column of the line, including the last one, where textwrap's default breaks it.
    text = f"saved it to {'x' * lead} {PATH} (1,234 bytes) and loaded it back"
    lines = wrap_paragraphs(text).splitlines()
    assert any(PATH in line for line in lines), lines
    assert all(len(line) <= WIDTH for line in lines), lines
    assert " ".join(lines) == " ".join(text.split()), "only whitespace may change"


def test_hyphenated_words_stay_whole_while_prose_still_wraps():
    words = ["held-out", "float64", "two-pass", "ask/tell"] * 20
    wrapped = wrap_paragraphs(" ".join(words), width=30)
    lines = wrapped.splitlines()
    assert len(lines) > 1
    assert all(len(line) <= 30 for line in lines)
    assert sorted(" ".join(lines).split()) == sorted(words)

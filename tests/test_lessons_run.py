"""Every lesson runs headless from the project root in quick mode, writes its PNGs and meets its
expectations; every lesson is a percent-format notebook and is listed, in order, in lessons/README.md."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lessons import LESSONS, REQUIRES
from lessons._common import CLAIM_TAG

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_runs_in_quick_mode_and_writes_figures(name, tmp_path):
    for module in REQUIRES.get(name, ()):
        pytest.importorskip(module)
    out = tmp_path / name
    env = dict(os.environ, MPLBACKEND="Agg", HANDNET_LESSON_QUICK="1")
    proc = subprocess.run([sys.executable, "-m", f"lessons.{name}", "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.startswith("PASS") for line in lines), f"{name} states no expectation"
    # a source's claim that does not hold prints "FAIL  [source claim] ..." and is a finding
    assert not [line for line in lines if line.startswith("FAIL") and CLAIM_TAG not in line], proc.stdout
    pngs = sorted(out.glob("*.png"))
    assert pngs, f"{name} wrote no PNG into {out}"
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
        assert f"wrote {png}" in proc.stdout, f"{png.name} was written but not announced"


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_is_a_percent_format_notebook(name):
    text = (ROOT / "lessons" / f"{name}.py").read_text()
    assert text.count("# %%") >= 3, "cells are marked with '# %%'"
    assert "# %% [markdown]" in text, "prose cells are marked with '# %% [markdown]'"
    assert 'if __name__ == "__main__":' in text


@pytest.mark.parametrize("name", LESSONS)
def test_importing_a_lesson_does_not_run_its_story(name, tmp_path):
    """Tests import a lesson's functions: the story (guarded by __name__ == "__main__") must not run,
    print or write anything then."""
    for module in REQUIRES.get(name, ()):
        pytest.importorskip(module)
    env = dict(os.environ, MPLBACKEND="Agg", HANDNET_LESSON_QUICK="1")
    proc = subprocess.run([sys.executable, "-c", f"import lessons.{name}"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (proc.stdout, proc.stderr) == ("", "")
    assert list(tmp_path.iterdir()) == [], "importing the lesson wrote files"
    text = (ROOT / "lessons" / f"{name}.py").read_text()
    assert "def main(" not in text and "run.end()" in text


def test_lesson_index_lists_every_lesson_in_teaching_order():
    index = (ROOT / "lessons" / "README.md").read_text()
    listed = re.findall(r"^\d+\. `python -m lessons\.(\w+)`", index, flags=re.M)
    assert listed == list(LESSONS)
    readme = (ROOT / "README.md").read_text()
    assert "lessons/README.md" in readme


def test_a_source_claim_that_fails_is_printed_but_does_not_fail_the_lesson(capsys, tmp_path):
    from lessons._common import LessonRun

    run = LessonRun("demo", tmp_path, quick=True)
    run.expect("the lesson's own check", True)
    assert run.claim("the post's reading", False, "measured 0.4") is False
    assert run.finish() == 0
    out = capsys.readouterr().out
    assert f"FAIL  {CLAIM_TAG} the post's reading (measured 0.4)" in out
    assert "0 of 1 source claims held; did not hold: the post's reading" in out
    run.expect("a failing check of the lesson", False)
    assert run.finish() == 1

"""pyproject.toml lists every subpackage: a missing one installs fine in editable mode and then
fails with ImportError after a plain `pip install .`."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_listed_in_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    listed = set(re.findall(r'"([\w.]+)"', re.search(r"^packages = \[(.*?)\]", text, re.M | re.S).group(1)))
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "handnet").rglob("__init__.py")}
    assert found <= listed, f"add {sorted(found - listed)} to packages in pyproject.toml"

"""The README's Python examples run as written."""

from __future__ import annotations

import re

from conftest import REPO


def test_readme_python_blocks_run() -> None:
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "the README has a Python example"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})

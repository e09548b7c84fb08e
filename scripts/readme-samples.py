#!/usr/bin/env python3
"""Rewrites the README's sample outputs: the block after each `<!-- sample: ARGS -->` marker
becomes what `replicast ARGS` prints, from its first line that starts like the block's, for as
many lines as the command prints from there (cli/tests/readme.rs checks the same). Run from the
repository root after `cargo build --release -p replicast-cli`."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BINARY = ROOT / "target" / "release" / "replicast"


def main():
    path = ROOT / "README.md"
    lines = path.read_text().split("\n")
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        if line.startswith("<!-- sample: ") and line.endswith(" -->"):
            args = line[len("<!-- sample: "):-len(" -->")].split()
            out.append(lines[i + 1])  # the opening fence
            end = i + 2
            while not lines[end].startswith("```"):
                end += 1
            first = lines[i + 2].split()[0] if end > i + 2 and lines[i + 2].split() else ""
            printed = subprocess.run([str(BINARY), *args], cwd=ROOT, capture_output=True,
                                     text=True, check=True).stdout.rstrip("\n").split("\n")
            start = next((k for k, l in enumerate(printed) if l.startswith(first)), 0)
            out.extend(printed[start:])
            i = end
            continue
        i += 1
    path.write_text("\n".join(out))
    print(f"rewrote {path.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Summaries of collapsed stack profiles (py-spy ``--format raw``): where the samples go."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path


def load(path: Path) -> list[tuple[list[str], int]]:
    """Stacks (outermost first) with their sample counts."""
    stacks = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def _short(frame: str) -> str:
    # "func (path/to/module.py:123)" → "func (module.py)"
    name, _, where = frame.partition(" (")
    module = where.rsplit("/", 1)[-1].split(":", 1)[0]
    return f"{name} ({module})" if module else name


def top(path: Path, limit: int = 25) -> str:
    """Self and inclusive sample shares of the busiest functions, as a text table."""
    stacks = load(path)
    total = sum(c for _, c in stacks) or 1
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    for frames, count in stacks:
        names = [_short(f) for f in frames]
        own[names[-1]] += count
        for name in set(names):
            incl[name] += count
    lines = [f"{total} samples", "", "self %  function"]
    lines += [f"{100 * c / total:6.1f}  {name}" for name, c in own.most_common(limit)]
    lines += ["", "incl %  function"]
    lines += [f"{100 * c / total:6.1f}  {name}" for name, c in incl.most_common(limit)]
    return "\n".join(lines)


if __name__ == "__main__":
    print(top(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 25))

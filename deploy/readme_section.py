"""Keep a generated section of README.md (between two HTML-comment markers) in step with the code.

Used by ``deploy/config_reference.py`` and ``deploy/event_table.py``: each renders its section and
calls :func:`main`, which rewrites README.md, or with ``--check`` exits 1 when it is out of date.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def updated(text: str, begin: str, end: str, section: str) -> str:
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    return pattern.sub(lambda _m: f"{begin}\n{section}\n{end}", text)


def main(render: Callable[[], str], *, begin: str, end: str, what: str, script: str, description: str) -> int:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="exit 1 when README.md is out of date")
    args = parser.parse_args()
    text = README.read_text()
    if begin not in text or end not in text:
        print(f"README.md has no {begin} … {end} section", file=sys.stderr)
        return 1
    new = updated(text, begin, end, render())
    if args.check:
        if new != text:
            print(f"README.md {what} is out of date: run python {script}", file=sys.stderr)
            return 1
        return 0
    README.write_text(new)
    print("updated README.md")
    return 0

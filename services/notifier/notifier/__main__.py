"""``python -m notifier migrate|worker|relay``; the worker also runs the mail sender."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from notifier.bootstrap import bootstrap
from packyard.cli import main

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"


def run(argv: Sequence[str] | None = None) -> int:
    return main("notifier", bootstrap=bootstrap, alembic_ini=ALEMBIC_INI, argv=argv)


if __name__ == "__main__":
    sys.exit(run())

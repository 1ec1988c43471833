"""``python -m catalog migrate|worker|relay|gc-blobs``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from catalog.bootstrap import bootstrap
from catalog.commands import COMMANDS
from packyard.cli import main

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"


def run(argv: Sequence[str] | None = None) -> int:
    return main("catalog", bootstrap=bootstrap, alembic_ini=ALEMBIC_INI, commands=COMMANDS,
                argv=argv)


if __name__ == "__main__":
    sys.exit(run())

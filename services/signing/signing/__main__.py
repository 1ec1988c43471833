"""``python -m signing migrate|worker|relay|rotate-platform-key|retire-platform-key``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from packyard.cli import main
from signing.bootstrap import bootstrap
from signing.commands import COMMANDS

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"


def run(argv: Sequence[str] | None = None) -> int:
    return main("signing", bootstrap=bootstrap, alembic_ini=ALEMBIC_INI, commands=COMMANDS, argv=argv)


if __name__ == "__main__":
    sys.exit(run())

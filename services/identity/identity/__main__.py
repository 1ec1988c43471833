"""``python -m identity migrate|worker|relay|rotate-keys|create-admin``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from identity.bootstrap import bootstrap
from identity.commands import COMMANDS
from packyard.cli import main

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"


def run(argv: Sequence[str] | None = None) -> int:
    return main("identity", bootstrap=bootstrap, alembic_ini=ALEMBIC_INI, commands=COMMANDS, argv=argv)


if __name__ == "__main__":
    sys.exit(run())

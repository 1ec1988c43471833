"""``python -m catalog migrate|worker|relay|gc-blobs``."""

import sys

from catalog.bootstrap import bootstrap
from catalog.commands import COMMANDS
from packyard.cli import alembic_ini, entry_point

ALEMBIC_INI = alembic_ini(__file__)
run = entry_point("catalog", bootstrap=bootstrap, alembic_ini=ALEMBIC_INI, commands=COMMANDS)

if __name__ == "__main__":
    sys.exit(run())

"""``python -m signing migrate|worker|relay|rotate-platform-key|retire-platform-key``."""

import sys

from packyard.cli import alembic_ini, entry_point
from signing.bootstrap import bootstrap
from signing.commands import COMMANDS

ALEMBIC_INI = alembic_ini(__file__)
run = entry_point("signing", bootstrap=bootstrap, alembic_ini=ALEMBIC_INI, commands=COMMANDS)

if __name__ == "__main__":
    sys.exit(run())

"""``python -m identity migrate|worker|relay|rotate-keys|create-admin``."""

import sys

from identity.bootstrap import bootstrap
from identity.commands import COMMANDS
from packyard.cli import alembic_ini, entry_point

ALEMBIC_INI = alembic_ini(__file__)
run = entry_point("identity", bootstrap=bootstrap, alembic_ini=ALEMBIC_INI, commands=COMMANDS)

if __name__ == "__main__":
    sys.exit(run())

"""``python -m social migrate|worker|relay``."""

import sys

from packyard.cli import alembic_ini, entry_point
from social.bootstrap import bootstrap

ALEMBIC_INI = alembic_ini(__file__)
run = entry_point("social", bootstrap=bootstrap, alembic_ini=ALEMBIC_INI)

if __name__ == "__main__":
    sys.exit(run())

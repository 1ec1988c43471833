"""``python -m notifier migrate|worker|relay``; the worker also runs the mail sender."""

import sys

from notifier.bootstrap import bootstrap
from packyard.cli import alembic_ini, entry_point

ALEMBIC_INI = alembic_ini(__file__)
run = entry_point("notifier", bootstrap=bootstrap, alembic_ini=ALEMBIC_INI)

if __name__ == "__main__":
    sys.exit(run())

"""The worker entry point: ``python -m notifier.worker`` (same as ``python -m notifier worker``)."""

import sys

from notifier.__main__ import run

if __name__ == "__main__":
    sys.exit(run(["worker", *sys.argv[1:]]))

"""The worker entry point: ``python -m identity.worker`` (same as ``python -m identity worker``)."""

import sys

from identity.__main__ import run

if __name__ == "__main__":
    sys.exit(run(["worker", *sys.argv[1:]]))

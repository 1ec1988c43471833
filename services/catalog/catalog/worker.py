"""The worker entry point: ``python -m catalog.worker`` (same as ``python -m catalog worker``)."""

import sys

from catalog.__main__ import run

if __name__ == "__main__":
    sys.exit(run(["worker", *sys.argv[1:]]))

"""The worker entry point: ``python -m signing.worker`` (same as ``python -m signing worker``)."""

import sys

from signing.__main__ import run

if __name__ == "__main__":
    sys.exit(run(["worker", *sys.argv[1:]]))

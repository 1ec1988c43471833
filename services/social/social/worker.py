"""The worker entry point: ``python -m social.worker`` (same as ``python -m social worker``)."""

import sys

from social.__main__ import run

if __name__ == "__main__":
    sys.exit(run(["worker", *sys.argv[1:]]))

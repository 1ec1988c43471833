"""The relay entry point: ``python -m signing.relay`` (same as ``python -m signing relay``)."""

import sys

from signing.__main__ import run

if __name__ == "__main__":
    sys.exit(run(["relay", *sys.argv[1:]]))

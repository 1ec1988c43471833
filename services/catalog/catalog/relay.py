"""The relay entry point: ``python -m catalog.relay`` (same as ``python -m catalog relay``)."""

import sys

from catalog.__main__ import run

if __name__ == "__main__":
    sys.exit(run(["relay", *sys.argv[1:]]))

"""The relay entry point: ``python -m identity.relay`` (same as ``python -m identity relay``)."""

import sys

from identity.__main__ import run

if __name__ == "__main__":
    sys.exit(run(["relay", *sys.argv[1:]]))

"""The relay entry point: ``python -m social.relay`` (same as ``python -m social relay``)."""

import sys

from social.__main__ import run

if __name__ == "__main__":
    sys.exit(run(["relay", *sys.argv[1:]]))

"""The relay entry point: ``python -m notifier.relay`` (same as ``python -m notifier relay``)."""

import sys

from notifier.__main__ import run

if __name__ == "__main__":
    sys.exit(run(["relay", *sys.argv[1:]]))

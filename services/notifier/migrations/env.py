from notifier.models import metadata
from packyard.migrations import run_env

run_env(metadata)

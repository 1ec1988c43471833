from packyard.migrations import run_env
from signing.models import metadata

run_env(metadata)

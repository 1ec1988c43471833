from packyard.migrations import run_env
from social.models import metadata

run_env(metadata)

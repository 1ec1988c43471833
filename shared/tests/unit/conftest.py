"""The platform library's fast layer: no server (packyard.testing.unit)."""

from packyard.testing.unit import no_servers  # noqa: F401 - an autouse fixture

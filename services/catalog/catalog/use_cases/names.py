"""What a repository, package, version or file path may be called.

Names appear as URL path segments, in download URLs and in other services' replicas, so they are
restricted to characters that need no escaping anywhere. Every pattern is matched against the whole
name (``fullmatch``): ``$`` would accept a trailing newline (``"main\n"``). File paths are relative to the
repository's root and may never climb out of it.
"""

from __future__ import annotations

import re

from packyard.errors import Invalid

REPO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PACKAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}")
VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+~-]{0,127}")
MAX_PATH = 1024
MAX_SEGMENT = 255

REPO_TYPES = ("maven", "debian", "conan", "rpm", "docker", "npm", "opkg", "nuget", "vagrant", "generic")


def check_repo_name(name: str) -> str:
    if not isinstance(name, str) or not REPO_NAME.fullmatch(name):
        raise Invalid(f"Invalid repository name '{name}': use up to 64 letters, digits, '.', '-' or '_', "
                      "starting with a letter or digit")
    return name


def check_package_name(name: str) -> str:
    if not isinstance(name, str) or not PACKAGE_NAME.fullmatch(name):
        raise Invalid(f"Invalid package name '{name}': use up to 128 letters, digits, '.', '-', '_', ':' or '+', "
                      "starting with a letter or digit")
    return name


def check_version_name(name: str) -> str:
    if name.upper().endswith("-SNAPSHOT"):
        raise Invalid(f"Version '{name}' is a snapshot: versions ending with -SNAPSHOT are not accepted")
    if not VERSION_NAME.fullmatch(name):
        raise Invalid(f"Invalid version name '{name}': use up to 128 letters, digits, '.', '-', '_', ':', '+' "
                      "or '~', starting with a letter or digit")
    return name


def check_path(path: str) -> str:
    """A file path relative to the repository root; anything that could escape it is refused."""
    if not path:
        raise Invalid("The file path is empty")
    if len(path) > MAX_PATH:
        raise Invalid(f"The file path is longer than {MAX_PATH} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        raise Invalid("The file path contains control characters")
    if "\\" in path:
        raise Invalid("The file path contains a backslash")
    if path.startswith("/"):
        raise Invalid("The file path must be relative to the repository (no leading '/')")
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            raise Invalid("The file path contains an empty, '.' or '..' segment")
        if len(segment) > MAX_SEGMENT:
            raise Invalid(f"A segment of the file path is longer than {MAX_SEGMENT} characters")
    return path

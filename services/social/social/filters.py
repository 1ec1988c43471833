"""Release filters of package watches: every release, stable releases only, major releases only, or a
regular expression on the version name.

Regular expressions come from any user and are matched against every release of the package (by the
notifier, for every watcher), so a pattern must never be able to take exponential time. Two layers:

1. a restricted syntax, checked when the watch is saved (:func:`check_pattern`): at most
   :data:`MAX_PATTERN` characters; no backreferences, no lookaround, no possessive or atomic tricks
   needed; no quantified group that itself contains an unbounded quantifier or an alternation
   (``(a+)+``, ``(a|aa)*`` — the shapes behind catastrophic backtracking); at most
   :data:`MAX_UNBOUNDED` unbounded quantifiers overall, so the worst case is a low polynomial over a
   version name of at most :data:`MAX_VERSION` characters. Such patterns behave the same in any
   backtracking engine (Python's ``re``, the notifier's, a client's);
2. matching here (:func:`release_matches`) uses the ``regex`` package with a timeout, so even a
   pattern that slipped past the check cannot hold a worker.

Google RE2 would make matching linear by construction, but its syntax differs from what users
write elsewhere and every consumer of the event would need it too; the restricted syntax keeps the
pattern portable while ruling out the dangerous shapes at the door.
"""

from __future__ import annotations

import re
from re import _constants as C  # type: ignore[attr-defined]  # noqa: N812 - typeshed omits re's private parser
from re import _parser as sre_parse  # type: ignore[attr-defined]  # typeshed omits re's private parser
from typing import Any

import regex

MAX_PATTERN = 200
MAX_VERSION = 128
MAX_UNBOUNDED = 3
MATCH_TIMEOUT = 0.05  # seconds

# Pre-release markers: semver's "-anything" after the numeric core, and the common spellings of
# pre-releases in other ecosystems (1.0rc1, 1.0.dev3, 2.0-M1, 1.0-SNAPSHOT, 1.0b2, 1.0a1).
_PRERELEASE = re.compile(
    r"(^\d+(\.\d+)*-)"
    r"|((?<![a-z])(alpha|beta|rc|cr|pre|preview|dev|snapshot|milestone|m|a|b|ea|nightly)[.\-_]?\d*($|[.\-+]))",
    re.IGNORECASE)
_NUMERIC = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")


class UnsafePattern(ValueError):
    pass


def _walk(parsed: Any, inside_repeat: bool, counts: dict[str, int]) -> None:
    for op, av in parsed:
        if op in (C.GROUPREF, C.GROUPREF_EXISTS):
            raise UnsafePattern("backreferences are not allowed")
        if op in (C.ASSERT, C.ASSERT_NOT):
            raise UnsafePattern("lookahead and lookbehind are not allowed")
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            low, high, body = av
            unbounded = high == C.MAXREPEAT
            if unbounded:
                counts["unbounded"] += 1
            if inside_repeat and (unbounded or high > 1):
                raise UnsafePattern("a repeated group may not contain another repetition")
            _walk(body, inside_repeat or unbounded or high > 16, counts)
        elif op == C.BRANCH:
            if inside_repeat:
                raise UnsafePattern("a repeated group may not contain an alternation")
            for branch in av[1]:
                _walk(branch, inside_repeat, counts)
        elif op == C.SUBPATTERN:
            _walk(av[-1], inside_repeat, counts)
        elif op == C.ATOMIC_GROUP:
            _walk(av, inside_repeat, counts)


def check_pattern(pattern: str) -> str:
    """The pattern when it is safe to match; :class:`UnsafePattern` with the reason otherwise."""
    if not pattern:
        raise UnsafePattern("the pattern is empty")
    if len(pattern) > MAX_PATTERN:
        raise UnsafePattern(f"the pattern is longer than {MAX_PATTERN} characters")
    try:
        parsed = sre_parse.parse(pattern)
        regex.compile(pattern)
    except (re.error, regex.error, RecursionError, OverflowError) as exc:
        raise UnsafePattern(f"not a valid regular expression: {exc}") from None
    counts = {"unbounded": 0}
    _walk(parsed, False, counts)
    if counts["unbounded"] > MAX_UNBOUNDED:
        raise UnsafePattern(f"at most {MAX_UNBOUNDED} unbounded repetitions (*, +, {{n,}}) are allowed")
    return pattern


def is_prerelease(version: str) -> bool:
    return bool(_PRERELEASE.search(version))


def is_major(version: str) -> bool:
    """x.0.0 (or x.0, or x) and not a pre-release."""
    found = _NUMERIC.match(version)
    if not found or is_prerelease(version):
        return False
    rest = version[found.end():]
    return found.group(2) in (None, "0") and found.group(3) in (None, "0") and rest in ("", ".0")


def release_matches(kind: str, pattern: str | None, version: str) -> bool:
    """Whether a release named ``version`` is wanted by a watch with this filter."""
    if kind == "all":
        return True
    if kind == "stable":
        return not is_prerelease(version)
    if kind == "major":
        return is_major(version)
    if kind == "regex" and pattern:
        try:
            return regex.search(pattern, version[:MAX_VERSION], timeout=MATCH_TIMEOUT) is not None
        except TimeoutError:
            return False
    return False

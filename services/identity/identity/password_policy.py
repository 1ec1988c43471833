"""What makes a password acceptable, with a message that says how to fix it.

Follows NIST SP 800-63B rather than composition rules: long enough, not one of the
passwords attackers try first, not built from the account's own name or address, and not
a single character repeated. Length limits are also checked by the request schemas, so
that a malformed request fails before any other work.
"""

from __future__ import annotations

import re

MIN_LENGTH = 8
MAX_LENGTH = 256
MIN_DISTINCT = 5

# The most used passwords of at least MIN_LENGTH characters in public breach corpora, and the
# words they are usually built on ("password1!", "qwerty2024" are refused through their stem).
COMMON = frozenset("""
password passw0rd p@ssword p@ssw0rd password1 password12 password123 passwort motdepasse contraseña
12345678 123456789 1234567890 0123456789 87654321 987654321 11111111 00000000 12341234 11223344
123123123 147258369 123456789a 1q2w3e4r 1q2w3e4r5t 1qaz2wsx qwertyui qwertyuiop qwerty123 qwerty12
asdfghjk asdfghjkl zxcvbnm zxcvbnm1 azertyui azertyuiop abcdefgh abcd1234 abc12345 aa123456
iloveyou sunshine princess football baseball basketball superman batman starwars pokemon
welcome letmein trustno1 whatever dragon monkey shadow master michael jennifer jordan23
computer internet liverpool chelsea arsenal charlie freedom hello123 lovely123 loveyou
changeme default secret administrator admin123 rootroot root1234 guest123 test1234 testtest
packyard bintray jfrog artifactory github gitlab bitbucket google twitter facebook linkedin
qazwsxedc 1qazxsw2 zaq12wsx zaq1zaq1 q1w2e3r4 q1w2e3r4t5 a1b2c3d4 passpass mypassword
""".split())

_STEM = re.compile(r"^(.*?)[\d\W_]*$")


def problems(password: str, *, username: str = "", email: str = "") -> list[str]:
    """Every reason ``password`` is refused for this account (empty when it is acceptable)."""
    found: list[str] = []
    if len(password) < MIN_LENGTH:
        found.append(f"Password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        found.append(f"Password must be at most {MAX_LENGTH} characters long")
    lowered = password.lower()
    stem = _STEM.match(lowered).group(1)  # type: ignore[union-attr]
    if lowered in COMMON or (len(stem) >= 4 and stem in COMMON):
        found.append("Password is too common: choose one that is harder to guess")
    if username and len(username) >= 3 and username.lower() in lowered:
        found.append("Password must not contain your username")
    local_part = email.split("@", 1)[0].lower() if email else ""
    if len(local_part) >= 3 and local_part in lowered:
        found.append("Password must not contain your email address")
    if len(set(password)) < MIN_DISTINCT:
        found.append(f"Password must use at least {MIN_DISTINCT} different characters")
    return found

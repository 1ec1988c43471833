"""Signing's HTTP API.

Only health, metrics and the OpenAPI document so far; the GPG key and signing endpoints
(``/users/:user/keys/gpg/public.key``, ``/me/keys/gpg``, ``/gpg/...``) come with key management.
"""

from __future__ import annotations

from flask_smorest import Blueprint

BLUEPRINTS: list[Blueprint] = []

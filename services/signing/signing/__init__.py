"""Signing — GPG keys and signatures of published content.

Owns the GPG keys of subjects (users and organizations; private keys encrypted at rest), the
platform's signing keys, and the automatic signings waiting to be done; keeps replicas of subjects,
organization admins and repositories' signing flags. Publishes ``signing.events`` (see ``events.py``);
consumes identity's user, organization and member events and catalog's releases, published files and
repository flags (``consumers.py``). Reads files from and hands signatures to catalog's internal API.
"""

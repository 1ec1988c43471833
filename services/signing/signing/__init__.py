"""Signing — GPG keys and signatures of published content.

Owns the GPG keys of subjects (users and organizations), the platform's signing key and signature
records; keeps a replica of subjects. Publishes ``signing.events`` (see ``events.py``; none yet);
consumes identity's user and organization events (``consumers.py``).
"""

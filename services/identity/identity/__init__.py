"""Identity — who is who on Packyard.

Owns accounts, passwords, profiles, the API key, organizations, members and teams, platform
administrators and the JWT signing keys; authenticates every credentialed request for the gateway.
Publishes ``identity.events`` (see ``events.py``); consumes catalog repository and social follow
events only to keep ``repos`` and ``followers_count`` on the Bintray user and org JSON (``consumers.py``).
"""

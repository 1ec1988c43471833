"""Catalog — what publishers publish and users download.

Owns repositories, packages, versions, files and their blobs, publish state, download counters and
team permissions on repositories. Publishes ``catalog.events`` (see ``events.py``); consumes identity's
user, organization, member and team events (its permission replica) and social's watch and review
events (the counters on package JSON), see ``consumers.py``.
"""

"""Catalog — what publishers publish and users download.

Owns repositories, packages, versions, files and their blobs, publish state, download counters and
statistics, team permissions on repositories, links, inclusion requests, ownership claims and
webhook registrations. Publishes ``catalog.events`` (see ``events.py``); consumes identity's user,
organization, member and team events (its permission replica), social's watch and review events
(the counters on package JSON) and the notifier's webhook delivery results, see ``consumers.py``.
"""

"""Social — follows, watches, messages, blocks, reviews, comments, the activity log and the feed.

Publishes ``social.events`` (``events.py``); consumes identity's, catalog's and signing's events for its
replicas, activity entries and access checks (``consumers.py``). See ``services/social/README.md``.
"""

"""Social — what people do on Packyard and whom they follow.

Owns follows, watches, messages, blocks, ratings and reviews, comments, the activity log and the
feed, with replicas of identity's users, organizations, memberships and teams and of catalog's
repositories, packages, versions and team permissions. Publishes ``social.events`` (``events.py``);
consumes identity's, catalog's and signing's events (``consumers.py``). See ``services/social/README.md``.
"""

"""Social — what people do on Packyard and whom they follow.

Owns follows, watches, messages, ratings and reviews, comments, the activity log and its replica of users.
Publishes ``social.events`` (see ``events.py``; none yet); consumes identity's account events to keep
its user replica and the activity log (``consumers.py``).
"""

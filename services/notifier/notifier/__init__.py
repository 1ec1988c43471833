"""Notifier — telling people what happened: in the app, by email, at webhooks and on Mastodon.

Owns recipients (a replica of identity's users and preferences), subscriptions (social's watches and
follows), notification settings, in-app notifications, email deliveries and digests, news, webhook
and Mastodon deliveries. Publishes ``notifier.events`` (``events.py``: webhook delivery reports for
catalog, and the batches of a release's fan-out for its own workers); consumes identity's, catalog's,
social's and signing's events (``consumers.py``).
"""

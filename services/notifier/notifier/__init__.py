"""Notifier — telling people what happened, in the app and by email.

Owns recipients (a replica of addresses and preferences), in-app notifications and email deliveries.
Publishes ``notifier.events`` (see ``events.py``; none yet); consumes identity's account events
(``consumers.py``) and sends the emails they call for from the worker's mail sender (``mail/``).
"""

"""Packyard's platform library — the plumbing every service imports, and nothing else.

Modules, in the order a request or an event meets them:

* :mod:`packyard.config` — typed settings from the environment; a missing required
  variable stops the process at start with a message naming it.
* :mod:`packyard.web` — Flask app skeleton: one JSON error shape, health, metrics,
  request ids, the caller's identity from the gateway's token (:mod:`packyard.auth`).
* :mod:`packyard.db` — engines, the unit of work (rolls back unless committed), and the
  outbox/inbox tables every service's migrations include.
* :mod:`packyard.events` — the CloudEvents 1.0 envelope and event type declarations.
* :mod:`packyard.relay` — publishes the outbox to RabbitMQ with confirms (at-least-once,
  never losing a committed event).
* :mod:`packyard.consumer` — runs event handlers idempotently, with delayed bounded
  retries and a dead-letter queue (:mod:`packyard.amqp` declares that topology).
* :mod:`packyard.service`, :mod:`packyard.cli`, :mod:`packyard.process`,
  :mod:`packyard.migrations`, :mod:`packyard.logs`, :mod:`packyard.metrics` — what a
  service's composition root and entry points are made of.
* :mod:`packyard.testing` — fixtures (real PostgreSQL and RabbitMQ per test run) and
  helpers (polling waits, a cuttable TCP proxy, an SMTP sink).
"""

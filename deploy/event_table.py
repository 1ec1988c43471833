#!/usr/bin/env python3
"""Write README.md's table of who publishes which event and who consumes it.

    python deploy/event_table.py           # rewrite the section between the events markers
    python deploy/event_table.py --check   # exit 1 when README.md is out of date

Publishers come from each service's ``events.ALL`` and consumers from each service's
``consumers.QUEUES``, the same declarations the relays and workers run, so the table cannot
promise an event nobody publishes or a consumer nobody runs.
"""

from __future__ import annotations

import importlib
import sys

from readme_section import main

SERVICES = ("identity", "social", "catalog", "notifier", "signing")
BEGIN, END = "<!-- events:begin -->", "<!-- events:end -->"


def consumers() -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {}
    for svc in SERVICES:
        for queue in importlib.import_module(f"{svc}.consumers").QUEUES:
            for handler in queue.handlers:
                out.setdefault(handler.event_type, set()).add((svc, queue.name))
    return out


def rows() -> list[tuple[str, str, str]]:
    """One row per publisher and family of events (`identity.member.*`) with the same consumers."""
    consumed = consumers()
    out: list[tuple[str, str, str]] = []
    for svc in SERVICES:
        groups: dict[tuple[str, frozenset], list[str]] = {}
        for event in importlib.import_module(f"{svc}.events").ALL:
            family, _, action = event.type.rpartition(".")
            groups.setdefault((family, frozenset(consumed.get(event.type, ()))), []).append(action)
        for (family, queues), actions in groups.items():
            events = f"`{family}.{actions[0]}`" if len(actions) == 1 else f"`{family}.{{{', '.join(actions)}}}`"
            by = ", ".join(f"{s} (`{q}`)" for s, q in sorted(queues)) or "none inside Packyard"
            out.append((svc, events, by))
    return out


def render() -> str:
    out = ["| publisher | events | consumed by (service and queue) |", "|---|---|---|"]
    out += [f"| {svc} | {events} | {by} |" for svc, events, by in rows()]
    out += ["", "Every event is also published for your own services to consume: bind a queue of yours to the "
                "publisher's exchange (`examples/release_subscriber.py`)."]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main(render, begin=BEGIN, end=END, what="event table", script="deploy/event_table.py",
                  description=__doc__.splitlines()[0]))

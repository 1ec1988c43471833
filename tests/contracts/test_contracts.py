"""Both sides of every event honest: publishers, consumers, the AsyncAPI document and the README."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("identity", "social", "catalog", "notifier", "signing")
FIXTURES = yaml.safe_load((Path(__file__).parent / "events.yaml").read_text())


def published() -> dict:
    out = {}
    for svc in SERVICES:
        for event in importlib.import_module(f"{svc}.events").ALL:
            assert event.type not in out, f"{event.type} declared twice"
            assert event.service == svc, f"{svc} publishes {event.type}, named for another service"
            out[event.type] = event
    return out


def handlers() -> list:
    return [(queue.name, handler) for svc in SERVICES
            for queue in importlib.import_module(f"{svc}.consumers").QUEUES for handler in queue.handlers]


def test_every_published_event_has_a_fixture_its_publisher_accepts():
    events = published()
    assert set(events) == set(FIXTURES["published"]), "fixtures and declared events differ"
    for type_, event in events.items():
        errors = event.schema().validate(FIXTURES["published"][type_])  # the wire form
        assert not errors, f"{type_}: {errors}"


def test_every_consumer_understands_what_is_published():
    for queue, handler in handlers():
        fixture = FIXTURES["published"].get(handler.event_type) or FIXTURES["planned"].get(handler.event_type)
        assert fixture is not None, f"{queue} consumes {handler.event_type}, which nobody publishes"
        if handler.schema is not None:
            handler.schema(unknown="exclude").load(fixture)


def test_planned_events_are_not_yet_published_and_still_consumed():
    events, consumed = published(), {h.event_type for _q, h in handlers()}
    for type_ in FIXTURES["planned"]:
        assert type_ not in events, f"{type_} is published now: move its fixture to `published`"
        assert type_ in consumed, f"nobody consumes {type_}: drop its fixture"


@pytest.mark.parametrize("script", ["deploy/asyncapi/generate.py", "deploy/config_reference.py",
                                    "deploy/gateway/generate.py", "deploy/event_table.py"])
def test_generated_documents_are_up_to_date(script):
    result = subprocess.run([sys.executable, script, "--check"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr

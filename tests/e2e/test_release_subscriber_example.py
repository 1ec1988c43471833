"""The documented way for an operator's own service to hear of releases works as written."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pika
import pytest

from packyard.testing import wait_for

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _queue_exists(broker_url: str, name: str) -> bool:
    conn = pika.BlockingConnection(pika.URLParameters(broker_url))
    try:
        conn.channel().queue_declare(name, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False
    finally:
        if conn.is_open:
            conn.close()


def test_the_release_subscriber_example_prints_each_release_once(gw):
    subscriber_queue = gw.unique_name("mirror")
    process = subprocess.Popen([sys.executable, str(ROOT / "examples" / "release_subscriber.py")],
                               env={**os.environ, "AMQP_URL": gw.broker_url, "QUEUE": subscriber_queue},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        wait_for(lambda: _queue_exists(gw.broker_url, subscriber_queue) or process.poll() is not None,
                 timeout=30, message="the subscriber's queue")
        assert process.poll() is None, process.stderr.read()
        user = gw.signup(gw.unique_name("pub"))
        auth, name = gw.api_key(user), user["username"]
        assert gw.post(f"/repos/{name}/tools", auth=auth, json={"type": "generic"}).status_code == 201
        assert gw.post(f"/packages/{name}/tools", auth=auth, json={
            "name": "cli", "licenses": ["MIT"], "vcs_url": "https://example.com/cli.git"}).status_code == 201
        answer = gw.request("PUT", f"/content/{name}/tools/cli/2.0.0/cli-2.0.0.txt?publish=1", auth=auth, data=b"x")
        assert answer.status_code == 201, answer.text
        printed = json.loads(lines.get(timeout=30))
        assert printed["release"] == f"{name}/tools/cli@2.0.0"
        assert printed["files"] and printed["files"][0].endswith("/cli-2.0.0.txt")
        assert printed["event_id"]
    finally:
        process.terminate()
        process.wait(timeout=10)
        conn = pika.BlockingConnection(pika.URLParameters(gw.broker_url))
        channel = conn.channel()
        channel.queue_delete(subscriber_queue)
        channel.queue_delete(f"{subscriber_queue}.dlq")
        channel.exchange_delete(f"{subscriber_queue}.dlx")
        conn.close()

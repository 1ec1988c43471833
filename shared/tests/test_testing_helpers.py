import pika

from packyard import amqp
from packyard.events import CloudEvent
from packyard.testing import publish_event, running, wait_for


class Loop:
    def __init__(self):
        self.ran = False
        self.stopped = False

    def run(self):
        self.ran = True
        while not self.stopped:
            wait_for(lambda: self.stopped, timeout=30)

    def stop(self):
        self.stopped = True


def test_running_runs_a_loop_for_the_block_and_stops_it():
    loop = Loop()
    with running(loop, ready=lambda: loop.ran):
        assert loop.ran and not loop.stopped
    assert loop.stopped


def test_publish_event_puts_a_cloudevent_on_its_publishers_exchange(fresh_amqp_url):
    connection = pika.BlockingConnection(pika.URLParameters(fresh_amqp_url))
    channel = connection.channel()
    amqp.declare_events_exchange(channel, "identity")
    channel.queue_declare("observer", durable=True)
    channel.queue_bind("observer", "identity.events", "#")
    event = CloudEvent(type="identity.user.registered", source="/identity", data={"username": "alice"})
    publish_event(fresh_amqp_url, event)
    method, props, body = channel.basic_get("observer", auto_ack=True)
    connection.close()
    assert method.routing_key == "identity.user.registered"
    assert props.message_id == event.id and props.delivery_mode == 2
    assert body == event.to_json().encode()


def test_a_local_broker_is_administered_without_its_management_api(rabbitmq, monkeypatch):
    """`make test` on a machine where RabbitMQ's management plugin is off: rabbitmqctl does the work."""
    import urllib.parse

    import pytest

    from packyard.testing.plugin import _local_broker_node

    host = urllib.parse.urlparse(rabbitmq.amqp_base).hostname
    local, _node = _local_broker_node(host)
    if not local:
        pytest.skip("the broker under test is not administered by a local rabbitmqctl")
    assert rabbitmq.api is None  # even when PACKYARD_TEST_RABBITMQ_API names a management API
    name = f"pk-{int(__import__('time').time())}_probe"
    url = rabbitmq.create_vhost(name)
    try:
        rabbitmq.create_user(name, "-secret")  # generated passwords may start with "-"
        rabbitmq.set_permissions(name, name, "^probe$", "^probe$", "^probe$")
        connection = pika.BlockingConnection(pika.URLParameters(rabbitmq.url(name, user=name, password="-secret")))
        channel = connection.channel()
        channel.queue_declare("probe", durable=True)
        connection.close()
        pika.BlockingConnection(pika.URLParameters(url)).close()
    finally:
        rabbitmq.delete_user(name)
        rabbitmq.delete_vhost(name)
        rabbitmq.vhosts.remove(name)


def test_the_tcp_proxy_keeps_a_quiet_connection_open():
    """A broker sends nothing to an idle consumer for a while: the proxy must not take that for a failure."""
    import socket
    import threading
    import time

    from packyard.testing import TcpProxy

    server = socket.create_server(("127.0.0.1", 0))
    speak = threading.Event()

    def quiet_then_speak():
        conn, _ = server.accept()
        speak.wait(10)
        conn.sendall(b"still here")
        conn.close()

    threading.Thread(target=quiet_then_speak, daemon=True).start()
    proxy = TcpProxy("127.0.0.1", server.getsockname()[1])
    proxy.connect_timeout = 0.2
    try:
        client = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
        time.sleep(1.0)  # quiet for five times the proxy's connect timeout (the fault itself, not a wait)
        speak.set()
        assert client.recv(100) == b"still here"
        client.close()
    finally:
        proxy.close()
        server.close()

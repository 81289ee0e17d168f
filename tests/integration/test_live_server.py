"""The live server that the browser tests drive: its requests never share the test thread's connection.

Django would hand an in-memory SQLite database's one connection to every
request thread, and two threads on one sqlite3 connection can freeze the
process (why, in tests/settings.py, which therefore puts SQLite on a file).
"""

from __future__ import annotations

import threading
from urllib.request import urlopen

import pytest
from django.db import connections
from django.db.backends.signals import connection_created

from tests.factories import publish

pytestmark = pytest.mark.slow  # a live server in a thread of its own


# django_db_setup first: a live server started after the test database exists
# is the one that would share an in-memory database's connection.
@pytest.mark.django_db(transaction=True)
def test_each_live_server_request_opens_its_own_database_connection(django_db_setup, live_server):
    publish("线程各自的连接")
    test_thread, test_connection = threading.get_ident(), connections["default"]
    opened = []

    def record(sender, connection, **kwargs):
        opened.append((threading.get_ident(), connection))

    connection_created.connect(record)
    try:
        with urlopen(live_server.url + "/") as response:
            assert "线程各自的连接" in response.read().decode()
    finally:
        connection_created.disconnect(record)

    assert opened, "the request ran on a connection already open: the test thread's, shared"
    assert all(thread != test_thread and connection is not test_connection for thread, connection in opened)

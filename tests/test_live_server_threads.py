"""The SQLite test database is a file, so the live server's threads have their own connections.

With SQLite's in-memory test database, Django's live server gives every request thread the
test's one connection. Two requests at once can then deadlock: one thread inside SQLite's
step, holding the connection's mutex, calls a Python function (Django's REGEXP) and waits for
the GIL, while the other holds the GIL and waits for that mutex to bind its parameters. Seen
on 2026-12-03 (py-spy on a CI run that never ended: the what-if count inside REGEXP, a session
load waiting on the same connection). slaportal/settings.py names a file instead.
"""

import pytest
from django.db import connection


def test_the_sqlite_test_database_is_a_file_not_shared_memory(db):
    if connection.vendor != "sqlite":
        pytest.skip("Only SQLite has an in-memory test database.")
    assert not connection.is_in_memory_db()

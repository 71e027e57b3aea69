"""PostgreSQL timestamps are read by psycopg's C loader (slaportal/timestamps.py): the same
aware UTC datetimes as Django's own loader gives, to the microsecond."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the loader is PostgreSQL's")


def test_a_timestamp_reads_back_to_the_microsecond_in_utc(postgresql):
    moment = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=ZoneInfo("America/Sao_Paulo"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz, NULL::timestamptz", [moment])
        value, nothing = cursor.fetchone()
    assert value == moment
    assert value.tzinfo is UTC
    assert value.utcoffset() == timedelta(0)
    assert value.microsecond == 123456
    assert nothing is None


def test_every_cursor_uses_the_connections_loader(postgresql):
    from psycopg import adapters
    from psycopg.pq import Format

    oid = adapters.types["timestamptz"].oid
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(oid, Format.TEXT)
    assert loader.__name__ == "UtcTimestamptzLoader"
    # Django compares this with the connection's zone on every cursor and, if they differ,
    # registers its own Python loader again for that cursor.
    assert loader.timezone is connection.timezone

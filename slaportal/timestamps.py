"""PostgreSQL timestamps read by psycopg's C loader instead of Django's Python one.

Django reads every `timestamptz` through a Python subclass of psycopg's pure-Python loader
(it stamps the connection's time zone on each value): about 4 µs a value, which was a tenth
of a queue page's CPU and more of a team page's (300 timestamps). psycopg's C loader parses
the same text in a fraction of that and, with the session in UTC as Django sets it, returns
the same aware datetimes (`tzinfo=datetime.timezone.utc`).

The C loader cannot be subclassed, and Django checks the registered loader's `timezone`
attribute on every cursor, so the loader registered here is a Python class with that
attribute whose `load` is the C loader's.
"""

import datetime
from functools import cache

from django.db.backends.signals import connection_created


@cache
def _fast_loader_class():
    import psycopg
    from psycopg.adapt import Loader
    from psycopg.pq import Format

    c_loader = psycopg.adapters.get_loader(psycopg.adapters.types["timestamptz"].oid, Format.TEXT)

    class UtcTimestamptzLoader(Loader):
        timezone = datetime.UTC  # what Django's create_cursor compares with its own zone

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            # The C loader reads the session's zone when it is made: UTC, as checked below.
            self.load = c_loader(oid, context).load

        def load(self, data):  # replaced per instance; declared for the abstract base
            raise NotImplementedError

    return UtcTimestamptzLoader


def _use_c_loader(sender, connection, **kwargs):
    if connection.vendor != "postgresql" or connection.timezone is not datetime.UTC:
        return
    raw = connection.connection
    if not hasattr(raw, "adapters") or str(raw.info.timezone) != "UTC":  # psycopg 2, or a zone
        return
    raw.adapters.register_loader("timestamptz", _fast_loader_class())


def c_loader_register() -> None:
    connection_created.connect(_use_c_loader, dispatch_uid="slaportal.timestamps")

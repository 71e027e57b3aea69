# The October 2026 review the kpis tests hand-computed, for the Portuguese renderings here.
from tests.kpis.conftest import october, rep, sla  # noqa: F401

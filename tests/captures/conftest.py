# The published SLA that hands off on a demo request, and its frozen clock.
from tests.leads.conftest import clock, other_rep, sla  # noqa: F401

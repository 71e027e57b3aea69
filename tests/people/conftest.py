# The lead engine's fixtures (a published SLA, reps, handoffs on a frozen clock).
from tests.leads.conftest import clock, hand_off, handoff, other_rep, sla  # noqa: F401

"""Writes of the lead engine, one module per idea:

- ingestion: leads and events arriving by API or CSV
- pipeline: scoring the leads that need it, moving stages, firing handoff triggers
- handoffs: assignment, the rep's actions, reassignment, breaches and the cadence's returns
- nurture: enrolment and advancing enrolments step by step
- notifications: in-app notices (once per event) and e-mail
"""

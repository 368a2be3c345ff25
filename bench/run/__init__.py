"""The runner and its reporting: what a run measures and for how long, one run start to end, the ratios to the
ceilings, the issue's targets, and the table."""

"""Act ``notes``'s scenes: one module per part of its API, aggregated into the act's ``router``."""

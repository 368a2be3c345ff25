"""Operator tooling that is not part of serving: the `chorus` command (migrate, seed) and the data-set generator."""

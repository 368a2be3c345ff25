"""``make bench``: chorus measured against its own ceilings on this machine, in one run.

Every figure stands beside a ceiling taken in the same run (a bare endpoint on the same server settings, the same
SQL by the thinnest possible endpoint on the same database), because timings on a shared machine drift.

``__main__`` is the command (``python -m bench``); ``run/`` the runner and its reporting (plan, one run start to end,
ratios, targets, table); ``scenarios/`` what is measured; ``apps/`` the ceilings' own apps; ``machinery/`` what the
runner and the scenarios share (processes, servers, workers, load generator, client, CPU, the run's data).
"""

"""``make bench``: chorus measured against its own ceilings on this machine, in one run.

Every figure stands beside a ceiling taken in the same run (a bare endpoint on the same server settings, the same
SQL by the thinnest possible endpoint on the same database), because timings on a shared machine drift.
"""

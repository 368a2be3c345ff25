"""Accounts' scenes; ``chorus.acts.accounts`` aggregates them into one router."""

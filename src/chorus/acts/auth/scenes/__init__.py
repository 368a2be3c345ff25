"""Auth's scenes; ``chorus.acts.auth`` aggregates them into one router."""

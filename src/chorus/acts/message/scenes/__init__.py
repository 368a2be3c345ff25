"""The message act's scenes; ``chorus.acts.message`` aggregates them into one router."""

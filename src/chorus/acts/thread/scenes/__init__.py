"""The thread act's scenes; ``chorus.acts.thread`` aggregates them into one router."""

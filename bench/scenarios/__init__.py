"""The scenarios of a run, what is measured: HTTP requests to chorus and its ceilings, live updates, background work,
cold start, the log-in's ceiling (a password check), and theatre's speed on a generated project."""

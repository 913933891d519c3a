"""`python -m tools.demo`: a seeded journey through the whole loop against a running stack (`make run`).

It registers deployments (through the actions service, and as a serving platform would), publishes a
week of predictions and health reports, sets a retraining policy, declines the drift so the policy
fires, lets the reference trainer train and the replacement service replace the model with its checks,
takes a CRITICAL deployment through a change request, and shows the inventory and an audit trail.

Re-runs on the same stack: the ids of a run end in its number (`churn-scorer`, then `churn-scorer-2`,
...), found by asking the actions service which ids are free, so a stack that already holds a previous
run's demo plays the whole journey again instead of finding every step already done. Within a run every
id (commands, events) is derived from the run's name, so the output of two runs differs only in times
and in that suffix.
"""

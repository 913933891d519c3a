"""The retraining domain: settings, policies, triggers, runs, `decide` and `evolve`. Pure.

state.py       the per-deployment state (the kit's decider state, one document per deployment)
cron.py        cron matching and next/last due times (UTC)
triggers.py    when a policy fires: decline switches, minimum interval, schedules (live and backtest)
runs.py        the run state machine (steps, cancel rule, replacement reason by trigger)
progress.py    a run's decisions: start, begin, advance, cancel, time out
decide.py      commands to events, and who may do what (roles: shared.domain.roles); evolve.py events to state
due.py         the commands due at a moment (the scheduler loop sends them) and `wake_at`
backtest.py    a draft policy over past health reports, through the live code
decider.py     the kit's `Decider`, and what the wiring does beyond the kit's handler
"""

"""Retraining: retraining settings and up to five policies per deployment, the runs they trigger
(schedule, drift or accuracy decline, by hand) through a trainer to a new champion, challenger or
package, the run history, and a backtest of a draft policy over the deployment's recorded health.

domain/        pure: state, evolve, decide, triggers, the run state machine, due work, the backtest
adapters/      its MongoDB store (state + outbox + where its work is due) and the monitoring log reader
entrypoints/   the command handler's consumer, the scheduler loop, and the HTTP API
"""

"""The replacement domain: a deployment's champion, challengers and model history, the package catalog,
the validation checks, `decide` and `evolve`. Pure.

    state.py       the per-deployment state (the kit's decider state, one document per deployment)
    packages.py    the package catalog (a second projection, keyed by package) and the `Packages` lookup
    checks.py      one function per validation check; validation.py the outcome and the dry run
    decide.py      commands to events; evolve.py events to state; policy.py the change-request rule
    decider.py     the kit's `Decider` with packages bound in, and what the handler must load first
"""

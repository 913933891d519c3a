"""The actions domain: a deployment's state as commands need it, `decide` and `evolve`. Pure."""

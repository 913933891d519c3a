"""The trainer's pure rules: what to train, how to split, which model wins, what to register.

No I/O, no clock, no scikit-learn here: the adapters load data and fit estimators, and these
modules decide around them, so they are tested with plain values.
"""

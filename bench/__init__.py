"""Benchmarks of the services against raw baselines, run in one process on the same data and database.

`python -m bench.inventory --help` lists the sizes; results go to stdout (a table) and bench-results/.
"""

"""Benchmarks of the services at fleet size, each figure beside raw baselines measured in the same run.

`python -m bench.inventory --help` lists the options; results go to stdout (markdown tables for the
README) and to bench-results/ (JSON with every figure, plus the same tables).
"""

"""Operator tools: the `lifecycle` CLI and the demo."""

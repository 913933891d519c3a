"""Replacement: replaces the model behind a deployment after compatibility checks and keeps its model history.

Walking skeleton: settings, composition root and operations endpoints; its domain, handlers and
store arrive with the replacement issue, in the same shape as services/inventory.
"""

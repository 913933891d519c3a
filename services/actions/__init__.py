"""Actions: what an operator does to a deployment (activate, deactivate, delete, importance,
relabel, share, clear statistics), checked against its state and the caller's role.

Walking skeleton: settings, composition root and operations endpoints; its domain, handlers and
store arrive with the actions issue, in the same shape as services/inventory.
"""

"""Retraining: retraining policies per deployment and the runs they trigger.

Walking skeleton: settings, composition root and operations endpoints; its domain, handlers and
store arrive with the retraining issue, in the same shape as services/inventory.
"""

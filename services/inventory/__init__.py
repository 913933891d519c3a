"""Inventory: every deployment with its model, importance, status, health and usage, searchable."""

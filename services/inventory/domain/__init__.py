"""The inventory's pure domain: its state and how events change it."""

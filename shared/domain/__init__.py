"""The domain kit: recorded events, deciders and folding helpers. Pure: no I/O, no clock."""

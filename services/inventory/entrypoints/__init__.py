"""How the inventory is reached: the event subscriber and the HTTP read API."""

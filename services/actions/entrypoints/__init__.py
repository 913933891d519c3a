"""How commands reach the actions service: HTTP routes and its command-topic subscriber."""

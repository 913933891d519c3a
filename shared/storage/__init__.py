"""MongoDB storage: the client, backend quirks, projections and command state."""

"""What every service runs with: settings, logging, metrics, the runtime and the HTTP app."""

"""The four Lifecycle services, each a package of the same shape: domain, handlers, store, settings, app."""

"""Cross-cutting parts of the backend: settings, database, identity, clock, error bodies, route
dependencies."""

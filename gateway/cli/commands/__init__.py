"""One module per ``crcgw`` command group; each defines ``register(app)`` and its commands are
listed in :mod:`gateway.cli.catalog` (which imports the module only when a command runs)."""

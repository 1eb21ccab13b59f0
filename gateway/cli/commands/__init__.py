"""One module per ``crcgw`` command group; each defines ``register(app)``."""

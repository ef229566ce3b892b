"""The HTTP layer: routers that record routes, request parsing, response shapes and errors on the wire."""

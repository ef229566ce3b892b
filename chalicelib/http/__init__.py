"""The HTTP edge: request bodies and queries in, JSON responses and errors out."""

"""The OpenIndex Auth domain: token format, authentication, users, tokens and their storage."""

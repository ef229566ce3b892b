"""What happened to a person's tokens, told to that person (no email needed)."""

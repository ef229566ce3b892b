"""Operator tooling that never runs in Lambda: the table definition, bootstrap, the local stack."""

"""Credentials: personal access tokens and workflow agent run tokens."""

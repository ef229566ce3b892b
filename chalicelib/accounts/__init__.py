"""Accounts: users, their roles and status, and the invites that create them."""

"""Messaging: what this service tells other OpenIndex services, on EventBridge's default bus (the
only EventBridge code, as storage is the only DynamoDB code)."""

"""Model: plain data and pure rules (no I/O, no boto3, no pydantic): what every other layer speaks."""

"""Access: the token format and its kinds, who is calling, and what each route demands of them."""

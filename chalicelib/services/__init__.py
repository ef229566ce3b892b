"""Services: the use cases. Each takes the store and the caller, applies the model's rules, and
writes through storage; none knows HTTP."""

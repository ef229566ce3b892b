"""``oi``: the OpenIndex command line (profiles, auth check, personal access tokens, invites)."""

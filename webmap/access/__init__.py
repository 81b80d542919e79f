"""Who may do what: the policy table and its decorator, sign-in, sessions."""

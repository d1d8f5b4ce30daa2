"""From vectors to numbered, named clusters: fit, choose_k, identity, naming, quality."""

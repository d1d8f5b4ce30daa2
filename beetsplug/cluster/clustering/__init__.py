"""From vectors to numbered, named clusters: fit, choose_k, identity, naming, quality."""

NOISE = -1  # the label a density method (dbscan, hdbscan) gives a track in no cluster

"""Documents to targets: reading task tables, extracting commitments, targets.yaml."""

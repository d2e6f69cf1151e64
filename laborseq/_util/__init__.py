"""Layer 0: helpers that import nothing of laborseq but its version (atomic writes, the JSON converter, the seed
normaliser, the environment record, the interval formatter)."""

"""Layer 0: helpers with no laborseq imports (atomic writes, JSON conversion, seeds, environment record)."""

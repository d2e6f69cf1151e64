"""Studies of fitted models: wage equations with career representations, and rationales of predictions."""

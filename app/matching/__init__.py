"""Vietnamese normalisation and fuzzy matching: pure, deterministic, fast."""

"""Long-running background work, owned and drained at shutdown."""

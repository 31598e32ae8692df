"""wardbot: a Zalo Official Account assistant for ward and commune governments."""

"""What to answer: pure decisions from a match and the conversation state."""

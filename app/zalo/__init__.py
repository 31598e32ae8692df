"""The outgoing Zalo OA client: messages, tokens, error mapping."""

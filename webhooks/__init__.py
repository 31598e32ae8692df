"""Inbound adapter: Zalo's webhook route, signature check and event models."""

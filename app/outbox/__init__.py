"""The outbox: one place that records and sends every outbound message, exactly once per part.

See `app.outbox.outbox` for the guarantees, `app.outbox.held` for replies held while Zalo was
unreachable."""

from app.outbox.outbox import Delivered, Outbox, OutboxPolicy, buttons_json, buttons_of

__all__ = ["Delivered", "Outbox", "OutboxPolicy", "buttons_json", "buttons_of"]

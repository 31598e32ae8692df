"""Booking a visit at the one-stop centre (đặt lịch hẹn): the calendar of slots (`calendar`),
what to say in the chat (`dialogue`), and the use case over storage and the outbox (`service`).

Everything takes the ward's profile (its `booking:` section) as a parameter: one deployment may
serve several wards, and every booking row carries its ward's `oa_id`.
"""

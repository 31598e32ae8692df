"""Announcements to residents, the whole feature in one package:

- service.py: what staff and residents meet: checking a new announcement, group commands
  in the chat with the deferred hand-off, memberships as CSV (the CLI, the API, the console
  and the inbox call it)
- delivery.py: the rate-limited, resumable worker that sends each delivery through the
  outbox, and the Zalo tags that mirror memberships
- notices.py: what residents and staff read (the announcement's card, reasons and labels)
- groups.py: residents' groups (tổ dân phố) in the chat: commands, directory, tag names

The queries stay with the other storage (app.storage.announcements: announcements and
deliveries; app.storage.groups: memberships and tags); the edges are thin: app.cli.announce,
app.web.announcements (staff API) and app.web.console.announcements / .groups (pages).
"""

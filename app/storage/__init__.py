"""SQLModel tables and small query functions."""

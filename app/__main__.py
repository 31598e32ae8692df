"""`python -m app` is `wardbot`."""

from app.cli import main

main()

"""Import the portal's records and the plain-language drafts into procedures.yaml.

    python scripts/import_reference.py --facts ../shared/reference/facts \\
        --plain /work/drafts/plain procedures.yaml

--facts DIR   copy each record (DIR/<code>.yaml) into its procedure: official name, documents,
              per-channel deadlines and fees, channels, result, conditions, steps, legal basis,
              agencies, the record's page. Hand-written keys (plain, short_name, aliases,
              examples, category, caveats...) are never touched. Re-run it when a record changes.
--plain DIR   merge each draft (DIR/<code>.yaml) into the procedure's `plain` block. A draft
              that does not validate is refused (and listed); the others are merged. Numbers and
              form codes a draft has that its record does not are listed for a human to check.
--check       change nothing; exit 1 if the file is not up to date with the inputs.

Both steps are idempotent: a second run changes nothing. The result is validated with the same
code the server uses and replaces procedures.yaml atomically; the report ends with the
procedures that still lack a plain version. Exit status 1 when a draft was refused.

(The first import, from ../shared/reference/procedures-reference.yaml, is in git history.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.catalogue.editor import write_validated
from app.catalogue.importer import (
    has_record,
    import_records,
    merge_plain,
    read_drafts,
    read_facts,
)
from app.errors import CatalogueError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("procedures", type=Path, help="procedures.yaml to update")
    parser.add_argument("--facts", type=Path, help="folder of the portal's records")
    parser.add_argument("--plain", type=Path, help="folder of plain-language drafts")
    parser.add_argument("--intents", type=Path, help="intents folder (default: beside the file)")
    parser.add_argument("--check", action="store_true", help="change nothing; 1 if outdated")
    args = parser.parse_args(argv)
    if args.facts is None and args.plain is None:
        parser.error("give --facts, --plain or both")

    before = args.procedures.read_text(encoding="utf-8")
    text = before
    facts = read_facts(args.facts) if args.facts else {}
    if args.facts:
        text, records = import_records(text, facts)
        print("\n".join(records.lines()))
    refused = False
    if args.plain:
        no_record = [code for code, record in facts.items() if not has_record(record)]
        notes = {code: [str(r.get("extraction_notes") or "")] for code, r in facts.items()}
        text, merged = merge_plain(text, read_drafts(args.plain), notes, no_record)
        print("\n".join(merged.lines()))
        refused = bool(merged.refused)

    if text == before:
        print(f"{args.procedures}: up to date")
        return 1 if refused else 0
    if args.check:
        print(f"{args.procedures}: NOT up to date (run without --check)")
        return 1
    intents = args.intents or args.procedures.parent / "intents"
    try:
        write_validated(args.procedures, intents, text)
    except CatalogueError as exc:
        print(f"the result does not validate; {args.procedures} is unchanged:\n{exc}")
        return 1
    print(f"{args.procedures}: written")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())

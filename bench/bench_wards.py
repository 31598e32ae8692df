"""Load a catalogue version with many ward files; print what it costs.

    .venv/bin/python bench/bench_wards.py [--wards 200] [--hiding 5]

Builds `--wards` ward files from the sample wards/phuong-mau-a.yaml (OA ids made up), of which
`--hiding` hide one shared procedure, and prints: the time to validate the bundle
(load_documents), to build the snapshot (the shared matcher, once), to build every ward's
dialogue (only hiding wards build a matcher), the matchers built, and a first answer's time for
a sharing and a hiding ward. It asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.catalogue import load_documents
from app.catalogue.documents import DocumentPaths
from app.dialogue.conversation import ConversationState
from app.knowledge import build_snapshot
from app.matching import matcher as matcher_module

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wards", type=int, default=200)
    parser.add_argument("--hiding", type=int, default=5)
    args = parser.parse_args()

    documents = DocumentPaths(ROOT / "procedures.yaml", ROOT / "intents").read()
    template = (ROOT / "wards" / "phuong-mau-a.yaml").read_text(encoding="utf-8")
    shared = load_documents(documents).catalogue
    hidden = shared.procedures[0].code
    for n in range(args.wards):
        text = template.replace("1000000000000000001", f"{9000000000000000000 + n}")
        text = text.replace("Phường Mẫu A", f"Phường Mẫu {n}")
        if n < args.hiding:
            text += f"hide: ['{hidden}']\n"
        documents[f"wards/ward-{n:03d}.yaml"] = text

    built = 0
    original = matcher_module.Matcher.__init__

    def counting(self: matcher_module.Matcher, *a: object, **k: object) -> None:
        nonlocal built
        built += 1
        original(self, *a, **k)  # type: ignore[arg-type]

    matcher_module.Matcher.__init__ = counting  # type: ignore[method-assign]

    started = time.perf_counter()
    content = load_documents(documents)
    validated = time.perf_counter()
    snapshot = build_snapshot(content, timedelta(minutes=30))
    snapshot_built = time.perf_counter()
    for ward in snapshot.wards:
        snapshot.dialogue_for(ward)
    dialogues = time.perf_counter()
    print(f"wards: {len(snapshot.wards)} ({args.hiding} hide a procedure)")
    print(f"validate the bundle (load_documents): {validated - started:.2f} s")
    print(f"snapshot (shared matcher): {snapshot_built - validated:.2f} s")
    print(f"every ward's dialogue: {dialogues - snapshot_built:.2f} s")
    print(f"matchers built: {built} (1 shared + one per hiding ward)")
    now = datetime.now(UTC)
    for slug in ("ward-199" if args.wards > 199 else f"ward-{args.wards - 1:03d}", "ward-000"):
        ward = snapshot.wards.by_slug(slug)
        if ward is None:
            continue
        t0 = time.perf_counter()
        snapshot.dialogue_for(ward).respond("làm giấy khai sinh", ConversationState(), now)
        print(
            f"first answer, {slug} (shares: {ward.shares_procedures}): "
            f"{(time.perf_counter() - t0) * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()

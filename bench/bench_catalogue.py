"""Catalogue loading and saving on the real files, each run cold (the loader's caches cleared).

    .venv/bin/python bench/bench_catalogue.py

Prints the median of 3 runs of: loading the files, loading the stored texts, an alias edit in
memory, a console alias save and a fact form save (CatalogueStore on a temporary SQLite file,
then loading the new version as the saving process does). It prints figures and asserts nothing.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from itertools import count
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.catalogue import loader  # noqa: E402
from app.catalogue.documents import PROCEDURES, DocumentPaths  # noqa: E402
from app.catalogue.editor import PhraseKind, text_with_phrase  # noqa: E402
from app.catalogue.plain_editor import FactEdit, apply_fact_edit  # noqa: E402
from app.catalogue_store import CatalogueStore, Origin  # noqa: E402
from app.storage.database import Database  # noqa: E402

RUNS = 3
ALIAS_CODE = "1.001193"
FACT_CODE = "1.004837"


def timed(label: str, run: Callable[[], object]) -> None:
    times = []
    for _ in range(RUNS):
        loader._remembered.clear()
        loader._remembered_bundles.clear()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    runs = ", ".join(f"{t:.2f}" for t in times)
    print(f"{label:<58} median {statistics.median(times):5.2f} s  ({runs})")


def main() -> None:
    paths = DocumentPaths(ROOT / "procedures.yaml", ROOT / "intents")
    bundle = paths.read()
    serial = count()
    timed(
        "load_content(procedures.yaml, intents/)",
        lambda: loader.load_content(paths.procedures, paths.intents),
    )
    timed("load_documents(the three texts)", lambda: loader.load_documents(bundle))

    def alias_in_memory() -> None:
        phrase = f"giấy chào đời số {next(serial)}"
        new = text_with_phrase(bundle[PROCEDURES], ALIAS_CODE, phrase, PhraseKind.alias)
        assert new is not None
        loader.load_documents({**bundle, PROCEDURES: new})

    timed("alias edit in memory (text_with_phrase + validation)", alias_in_memory)

    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{folder}/bench.db")
        db.create_schema()
        store = CatalogueStore(db)
        store.save(bundle, base=None, author="bench", reason="seed", origin=Origin.seed)

        def save(change: Callable[[str], str | None]) -> None:
            base = store.current_version()
            assert base is not None
            saved = store.edit(PROCEDURES, change, base=base, author="bench", reason="bench")
            assert saved is not None
            store.content(saved.version)  # what the saving process then serves

        def alias_save() -> None:
            phrase = f"giấy chào đời số {next(serial)}"
            save(lambda text: text_with_phrase(text, ALIAS_CODE, phrase, PhraseKind.alias))

        timed("console alias save (SQLite, then the version loaded)", alias_save)
        procedure = loader.load_documents(bundle).catalogue.procedure(FACT_CODE)
        assert procedure is not None and procedure.plain is not None
        plain = procedure.plain

        def fact_save() -> None:
            deadline = f"Trong {next(serial) + 1} ngày làm việc."
            edit = FactEdit(plain.model_copy(update={"deadline": deadline}))
            save(lambda text: apply_fact_edit(text, FACT_CODE, edit))

        timed("fact form save (SQLite, then the version loaded)", fact_save)
        db.close()


if __name__ == "__main__":
    main()

"""Matcher figures on every labelled set: the sample (dev), heldout, the catalogue's examples and
each blind set, and each blind set's two halves (odd and even lines).

    .venv/bin/python bench/eval_matcher.py [more.tsv ...] [--misses SET]

Tuning discipline (docs/matching.md): look at one half's misses, write a general rule, and keep
it only if the other half, dev and heldout do not get worse. `--misses SET` lists a set's misses.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.catalogue import load_content  # noqa: E402
from app.matching.evaluate import (  # noqa: E402
    LabelledQuestion,
    evaluate,
    example_questions,
    read_labelled_tsv,
)
from app.matching.matcher import Matcher  # noqa: E402

DEV = ROOT.parent / "shared" / "eval" / "questions-dev.tsv"


def labelled_sets(extra: list[Path]) -> dict[str, list[LabelledQuestion]]:
    content = load_content(ROOT / "procedures.yaml", ROOT / "intents")
    sets: dict[str, list[LabelledQuestion]] = {}
    if DEV.exists():
        sets["dev"] = read_labelled_tsv(DEV)
    sets["heldout"] = read_labelled_tsv(ROOT / "tests" / "matching" / "heldout.tsv")
    sets["examples"] = example_questions(content.catalogue)
    for path in [*sorted((ROOT / "tests" / "matching").glob("blind-*.tsv")), *extra]:
        questions = read_labelled_tsv(path)
        sets[path.stem] = questions
        sets[f"{path.stem}/odd"] = questions[0::2]
        sets[f"{path.stem}/even"] = questions[1::2]
    return sets


def main(argv: list[str]) -> None:
    misses = argv[argv.index("--misses") + 1] if "--misses" in argv else None
    extra = [Path(a) for a in argv if a.endswith(".tsv")]
    content = load_content(ROOT / "procedures.yaml", ROOT / "intents")
    started = time.perf_counter()
    matcher = Matcher(content.catalogue, content.intents)
    print(f"matcher built in {time.perf_counter() - started:.3f} s")
    for name, questions in labelled_sets(extra).items():
        report = evaluate(matcher, questions)
        print(f"{name:18s} {report.summary()}")
        if name == misses:
            for o in report.outcomes:
                if o.correct and not o.wrong_and_confident:
                    continue
                options = ", ".join(f"{c.id}:{c.score:.0f}" for c in o.result.alternatives[:3])
                expected = "|".join(sorted(o.question.expected))
                print(f"    {expected:24s} {o.result.kind:9s} [{options}] {o.question.text}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Matcher latency per question: the real catalogue, and a synthetic one of 2,000 procedures.

    .venv/bin/python bench/bench_matcher.py [--cpu-time]

Single-threaded; prints build time and p50/p99 per question. Targets: p99 < 2 ms on the real
catalogue, < 10 ms on the synthetic one. It prints figures and asserts nothing.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.catalogue import Catalogue, Content, load_content  # noqa: E402
from app.matching.evaluate import example_questions, read_labelled_tsv  # noqa: E402
from app.matching.matcher import Matcher  # noqa: E402

SYNTHETIC_SIZE = 2000
ROUNDS = 5
SEED = 20260101


def questions(content: Content) -> list[str]:
    texts = [q.text for q in read_labelled_tsv(ROOT / "tests" / "matching" / "heldout.tsv")]
    texts += [q.text for q in example_questions(content.catalogue)]
    # Typos, teencode and a long rambling message, which take the slow paths.
    blind = sorted((ROOT / "tests" / "matching").glob("blind-*.tsv"))
    texts += [q.text for path in blind for q in read_labelled_tsv(path)]
    texts += [
        "lm ks cho con can j vay ad",
        "ddawng kys khai sinhf",
        "khaisinh cho be nha em",
        "tt",
        "cho chị hỏi thằng cu nhà chị mới đẻ tuần trước, giờ đi làm giấy khai sinh thì phải "
        "đem theo những giấy tờ gì vậy em, chồng chị đang đi làm xa không về được",
    ]
    return texts


def synthetic(catalogue: Catalogue, size: int, rng: random.Random) -> Catalogue:
    """The real procedures plus variants of them, as a province-wide catalogue would hold.

    Each variant copies a real procedure's names, aliases and examples, swaps a few words for
    words drawn as often as the catalogue uses them, and adds a subject of its own (a made-up
    two-word term), so most words are shared and a few tell the procedures apart.
    """
    words = [w for p in catalogue.procedures for t in (p.name, *p.aliases) for w in t.split()]
    syllables = sorted({w.lower() for w in words if w.isalpha()})

    def vary(text: str, subject: str) -> str:
        parts = text.split()
        for _ in range(rng.randint(1, 2)):
            parts[rng.randrange(len(parts))] = rng.choice(words)
        if rng.random() < 0.6:
            parts.insert(rng.randint(0, len(parts)), subject)
        return " ".join(parts)

    made = list(catalogue.procedures)
    for i in range(size - len(made)):
        template = catalogue.procedures[i % len(catalogue.procedures)]
        subject = f"{rng.choice(syllables)} {rng.choice(syllables)}"
        made.append(
            template.model_copy(
                update={
                    "code": f"9.{i:06d}",
                    "name": vary(template.name, subject),
                    "short_name": vary(template.short_name, subject)[:40],
                    "aliases": tuple(vary(a, subject) for a in template.aliases),
                    "examples": tuple(vary(e, subject) for e in template.examples),
                }
            )
        )
    return catalogue.model_copy(update={"procedures": tuple(made)})


CPU_TIME = "--cpu-time" in sys.argv
"""Time this process's CPU instead of the wall clock: on a machine other work shares, the wall
clock mostly measures the others."""
clock_ns = time.process_time_ns if CPU_TIME else time.perf_counter_ns


def measure(label: str, content: Content, texts: Sequence[str]) -> None:
    started = clock_ns()
    matcher = Matcher(content.catalogue, content.intents)
    built = (clock_ns() - started) / 1e9
    for text in texts:  # warm-up
        matcher.match(text)
    timings: list[float] = []
    for _ in range(ROUNDS):
        for text in texts:
            begin = clock_ns()
            matcher.match(text)
            timings.append((clock_ns() - begin) / 1e6)
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(
        f"{label:<20} procedures={len(content.catalogue.procedures):>5}  build={built:5.2f} s  "
        f"timed={len(timings):>5}  p50={p50:6.3f} ms  p99={p99:6.3f} ms  max={timings[-1]:6.3f} ms"
    )


def main() -> None:
    content = load_content(ROOT / "procedures.yaml", ROOT / "intents")
    texts = questions(content)
    measure("real catalogue", content, texts)
    big = synthetic(content.catalogue, SYNTHETIC_SIZE, random.Random(SEED))
    measure("synthetic catalogue", Content(catalogue=big, intents=content.intents), texts)


if __name__ == "__main__":
    main()

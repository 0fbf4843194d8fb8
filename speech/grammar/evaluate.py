"""How well the parser does on held-out text (tests/fixtures/grammar/heldout.yaml): the
in-domain accuracy (intent and every slot right) and out-of-domain false accepts, across
correction cutoffs. Run: python -m speech.grammar.evaluate [--misses]"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from speech.grammar.grammar import Grammar, default_grammar
from speech.grammar.model import REPO

HELDOUT = REPO / "tests" / "fixtures" / "grammar" / "heldout.yaml"
CUTOFFS = (0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)


@dataclass(frozen=True)
class Case:
    text: str
    intent: str | None  # None: out of domain
    slots: dict[str, str]
    expecting: str | None = None


@dataclass(frozen=True)
class Result:
    cutoff: float
    in_domain: int
    correct: int
    out_of_domain: int
    false_accepts: int
    misses: tuple[tuple[Case, str], ...]

    @property
    def accuracy(self) -> float:
        return self.correct / self.in_domain

    @property
    def false_accept_rate(self) -> float:
        return self.false_accepts / self.out_of_domain


def load_cases(path: Path = HELDOUT) -> list[Case]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = [Case(str(e[0]), e[1], {k: str(v) for k, v in (e[2] or {}).items()},
                  e[3] if len(e) > 3 else None) for e in raw["in_domain"]]
    return cases + [Case(str(text), None, {}) for text in raw["out_of_domain"]]


def evaluate(grammar: Grammar, cases: list[Case], cutoff: float) -> Result:
    correct = false_accepts = 0
    misses = []
    for case in cases:
        got = grammar.parse(case.text, expecting=case.expecting, cutoff=cutoff)
        said = "None" if got is None else f"{got.intent} {got.values()} ({got.score:.2f})"
        if case.intent is None:
            false_accepts += got is not None
            if got is not None:
                misses.append((case, said))
        elif got is not None and got.intent == case.intent and got.values() == case.slots:
            correct += 1
        else:
            misses.append((case, said))
    n_in = sum(c.intent is not None for c in cases)
    return Result(cutoff, n_in, correct, len(cases) - n_in, false_accepts, tuple(misses))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m speech.grammar.evaluate", description=__doc__)
    parser.add_argument("--misses", action="store_true", help="list what each cutoff got wrong")
    parser.add_argument("--file", type=Path, default=HELDOUT)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    grammar = default_grammar()
    grammar.parse("warm up")
    loaded = time.perf_counter() - start
    cases = load_cases(args.file)
    print(f"grammar loaded in {loaded * 1000:.0f} ms; {args.file.name}: "
          f"{sum(c.intent is not None for c in cases)} in domain, "
          f"{sum(c.intent is None for c in cases)} out of domain; "
          f"default cutoff {grammar.cutoff}")
    print("| cutoff | in-domain accuracy | out-of-domain accepted |")
    print("|---|---|---|")
    for cutoff in CUTOFFS:
        result = evaluate(grammar, cases, cutoff)
        mark = " (default)" if cutoff == grammar.cutoff else ""
        print(f"| {cutoff:.2f}{mark} | {result.correct}/{result.in_domain} "
              f"({result.accuracy:.1%}) | {result.false_accepts}/{result.out_of_domain} "
              f"({result.false_accept_rate:.1%}) |")
        if args.misses:
            for case, said in result.misses:
                print(f"    {case.text!r}: want {case.intent} {case.slots}, got {said}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Fit the command decision (speech.grammar.decision) on the recorded fixtures and show its
accept/false-accept trade-off.

    python -m bench.calibrate [--readings FILE] [--refresh]

Every command clip of tests/fixtures/utterances is decoded once by PocketSphinx (both
readings and their scores are kept in FILE, so refitting does not decode again: about 15
minutes on two cores). A logistic regression is fitted, with numpy, on the candidates of the
dev split's clips: a candidate is right when its intent and slots are what the person meant;
every candidate of an out-of-domain clip is wrong. The script prints the weights to paste
into decision.py, the trade-off table on the dev and test splits, and the lowest threshold
at which no out-of-domain clip in any split is acted on.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from speech.grammar import default_grammar
from speech.grammar.decision import THRESHOLD, WEIGHTS, Candidate, Readings, candidates, probability
from speech.grammar.model import REPO

DEFAULT_READINGS = REPO / "bench" / "readings.jsonl"
L2 = 1.0  # ridge penalty on the standardized weights (not on the intercept)
TRADE_OFF = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def decode_all(path: Path) -> None:
    """Decode every command clip once and keep both readings per clip."""
    from speech.audio import read_wav
    from speech.stt.sphinx import SphinxRecognizer
    from tests.support.utterances import load_manifest

    recognizer = SphinxRecognizer(default_grammar())
    with path.open("w", encoding="utf-8") as out:
        for k, clip in enumerate(c for c in load_manifest() if c.turn == "command"):
            got = recognizer.transcribe(read_wav(clip.path))
            readings = got.readings or Readings(got.text, "")
            out.write(json.dumps({"file": clip.file, **asdict(readings)}) + "\n")
            if k % 100 == 0:
                print(f"decoded {k} clips", file=sys.stderr, flush=True)


def load(path: Path) -> dict[str, Readings]:
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    return {row.pop("file"): Readings(**row) for row in rows}


def right(candidate: Candidate, clip) -> bool:
    from tests.support.utterances import Heard, correct

    return clip.in_domain and correct(clip, Heard(candidate.text, candidate.parse.intent,
                                                  candidate.parse.values()))


def fit(rows: list[tuple[dict[str, float], bool]]) -> dict[str, float]:
    """Ridge-penalized logistic regression by Newton's method on standardized signals;
    returns weights for the raw signals."""
    names = sorted(rows[0][0])
    x = np.array([[signals[n] for n in names] for signals, _ in rows])
    y = np.array([float(label) for _, label in rows])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    w = np.zeros(z.shape[1])
    penalty = np.diag([0.0] + [L2] * len(names))
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-z @ w))
        gradient = z.T @ (p - y) + penalty @ w
        hessian = z.T @ (z * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    raw = w[1:] / scale
    return {"bias": float(w[0] - np.sum(raw * mean)),
            **{n: float(v) for n, v in zip(names, raw, strict=True)}}


def outcomes(grammar, readings: dict[str, Readings], clips: list, weights: dict[str, float]):
    """Per clip: (clip, best probability, whether the best candidate is right)."""
    out = []
    for clip in clips:
        best = max(((probability(c.signals, weights), right(c, clip))
                    for c in candidates(grammar, readings[clip.file])),
                   default=(0.0, False))
        out.append((clip, *best))
    return out


def trade_off(results, threshold: float) -> tuple[int, int, int, int]:
    """(in-domain right, in-domain clips, out-of-domain acted on, out-of-domain clips)."""
    inside = [r for r in results if r[0].in_domain]
    outside = [r for r in results if not r[0].in_domain]
    return (sum(p >= threshold and ok for _, p, ok in inside), len(inside),
            sum(p >= threshold for _, p, _ in outside), len(outside))


def safe_threshold(results) -> float:
    """The lowest threshold (to 0.01) at which no out-of-domain clip is acted on."""
    worst = max((p for clip, p, _ in results if not clip.in_domain), default=0.0)
    return float(np.ceil((worst + 1e-9) * 100) / 100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.calibrate",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=Path, default=DEFAULT_READINGS)
    parser.add_argument("--refresh", action="store_true", help="decode the clips again")
    args = parser.parse_args(argv)
    from tests.support.utterances import load_manifest

    if args.refresh or not args.readings.exists():
        decode_all(args.readings)
    readings = load(args.readings)
    grammar = default_grammar()
    clips = [c for c in load_manifest() if c.file in readings]
    dev = [c for c in clips if c.split == "dev"]
    rows = [(cand.signals, right(cand, clip)) for clip in dev
            for cand in candidates(grammar, readings[clip.file])]
    weights = fit(rows)
    results = outcomes(grammar, readings, clips, weights)
    threshold = safe_threshold(results)
    print("WEIGHTS = {" + ", ".join(f'"{k}": {v:.4g}' for k, v in weights.items()) + "}")
    print(f"THRESHOLD = {threshold:.2f}  (lowest with no out-of-domain clip acted on)")
    print(trade_off_table(results, THRESHOLD, threshold))
    if {k: float(f"{v:.4g}") for k, v in weights.items()} != WEIGHTS:
        print("(decision.py holds other weights; paste the ones above to ship these)")
    return 0


def trade_off_table(results, shipped: float, lowest: float | None = None) -> str:
    """Right and out-of-domain acted on per split at each threshold; ``lowest``: the lowest
    threshold with no out-of-domain clip acted on, if other than the shipped one."""
    lines = ["| threshold | dev: in-domain right | dev: out of domain acted on "
             "| test: in-domain right | test: out of domain acted on |",
             "|---:|---:|---:|---:|---:|"]
    for threshold in sorted({*TRADE_OFF, shipped} | ({lowest} if lowest else set())):
        cells = []
        for split in ("dev", "test"):
            ok, n, fa, m = trade_off([r for r in results if r[0].split == split], threshold)
            cells += [f"{ok}/{n} ({ok / max(1, n):.1%})", f"{fa}/{m}"]
        mark = " (shipped)" if threshold == shipped else ""
        mark += " (lowest safe)" if threshold == lowest and lowest != shipped else ""
        lines.append(f"| {threshold:.2f}{mark} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())

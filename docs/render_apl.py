"""Screenshots of the skill's APL documents (skill/apl/*.json) at each viewport, for the README.

    .venv/bin/python docs/render_apl.py            # every document at every viewport
    .venv/bin/python docs/render_apl.py --only card --viewport show8 --out /tmp/shots

Each document gets the data the skill sends (skill/screens.py builds it, from a real card of
the deck), is drawn as HTML by docs/apl_preview.js (the subset of APL the documents use) and
photographed by headless Chromium (Debian's `chromium`, from `deploy/install-system-packages.sh
test`), which runs with no network and a throwaway profile. A round viewport is masked to its
circle. One line per PNG written; a missing Chromium is one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skill import screens  # noqa: E402 (the repository on the path first)
from skill.cards import default_deck  # noqa: E402

PREVIEW_JS = Path(__file__).with_name("apl_preview.js")
OUT = Path(__file__).with_name("screens")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--hide-scrollbars", "--force-device-scale-factor=1",
                  "--default-background-color=00000000")


@dataclass(frozen=True)
class Viewport:
    """A device's viewport as APL's data binding sees it (sizes in dp)."""

    name: str
    device: str
    width: int
    height: int
    shape: str = "rectangle"
    mode: str = "hub"

    def binding(self) -> dict:
        return {"width": self.width, "height": self.height, "shape": self.shape,
                "mode": self.mode, "theme": "dark", "dpi": 160,
                "pixelWidth": self.width, "pixelHeight": self.height}


VIEWPORTS = (
    Viewport("spot", "Echo Spot (round hub)", 480, 480, shape="round"),
    Viewport("show5", "Echo Show 5 (small landscape hub)", 960, 480),
    Viewport("show8", "Echo Show 8 (medium landscape hub)", 960, 600),
    Viewport("show10", "Echo Show 10 (large landscape hub)", 1280, 800),
    Viewport("tv", "Fire TV", 960, 540, mode="tv"),
)


def samples() -> dict[str, tuple[str, dict, int]]:
    """What each preview shows: (document, data source, elapsedTime in ms)."""
    deck = default_deck()
    card = next(c for c in deck if c.category == "dreams" and c.depth == "medium")
    speech = ("Let's hug for 20 seconds. Come close, and let your shoulders drop. Take one "
              'slow breath together. <break time="1s"/> Starting now. <break time="10s"/>')
    hug = screens.hug_data(20, speech)
    week = ("This week, the two of you made time for two appreciation rounds, three hugs "
            "and four conversation questions. That's a lot of closeness.")
    checkin = [f"{part}: {meaning}" for part, meaning in (
        ("Rose", "a highlight of your day, something that went well"),
        ("Thorn", "something that was hard today"),
        ("Bud", "something you're looking forward to"))]
    return {
        "card": ("card", screens.card_data(card), 0),
        "hug": ("hug", hug, hug["hug"]["startsAtMs"] + 7000),  # 13 seconds to go
        "round": ("round", screens.round_data(("Sam", "Alex"), "first"), 0),
        "checkin": ("ritual", {"ritual": {"title": "Rose, thorn, bud", "lines": checkin}}, 0),
        "week": ("ritual", {"ritual": {"title": "Your week", "lines": [week]}}, 0),
    }


def page(document: dict, data: dict, viewport: Viewport, elapsed_ms: int) -> str:
    """The HTML that draws one document at one viewport."""
    mask = "border-radius: 50%;" if viewport.shape == "round" else ""
    args = ", ".join(json.dumps(v) for v in (document, data, viewport.binding(), elapsed_ms))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><style>
  html, body {{ margin: 0; background: transparent; }}
  #screen {{ position: relative; overflow: hidden; {mask}
            font-family: "DejaVu Sans", sans-serif; }}
</style></head><body><div id="screen"></div>
<script>{PREVIEW_JS.read_text(encoding="utf-8")}</script>
<script>renderApl(document.getElementById("screen"), {args});</script>
</body></html>
"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(html: str, viewport: Viewport, target: Path, browser: str) -> None:
    with tempfile.TemporaryDirectory(prefix="closer-apl-") as work:
        source = Path(work) / "page.html"
        source.write_text(html, encoding="utf-8")
        done = subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={work}/profile",
             f"--window-size={viewport.width},{viewport.height}",
             f"--screenshot={target}", source.as_uri()],
            capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or not target.exists():
        raise RuntimeError(f"chromium could not draw {target.name}: "
                           f"{done.stderr.strip().splitlines()[-1:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=sorted(samples()),
                        help="a preview to draw (default: all)")
    parser.add_argument("--viewport", action="append", choices=[v.name for v in VIEWPORTS],
                        help="a viewport to draw at (default: all)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where (default: {OUT})")
    args = parser.parse_args(argv)
    browser = chromium()
    if browser is None:
        print("render_apl: chromium is not installed (deploy/install-system-packages.sh test)",
              file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (document, data, elapsed_ms) in samples().items():
        if args.only and name not in args.only:
            continue
        for viewport in VIEWPORTS:
            if args.viewport and viewport.name not in args.viewport:
                continue
            target = args.out / f"{name}-{viewport.name}.png"
            html = page(screens.document(document), data, viewport, elapsed_ms)
            screenshot(html, viewport, target, browser)
            shown = target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
            print(f"{shown}  {viewport.device}, {viewport.width} x {viewport.height} dp")
    return 0


if __name__ == "__main__":
    sys.exit(main())

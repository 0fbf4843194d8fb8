"""docs/render_apl.py, the README's screenshots of the APL documents: the page it writes
draws with the skill's own data, and (a system test) headless Chromium photographs it."""

from __future__ import annotations

import json
import shutil
import struct
import sys
from pathlib import Path

import pytest

from skill import screens

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs"))
import render_apl  # noqa: E402 (docs/ is not a package)

DOCS = Path(render_apl.__file__).parent


def test_every_document_has_a_preview_and_every_preview_a_document() -> None:
    drawn = {document for document, _data, _elapsed in render_apl.samples().values()}
    assert drawn == {p.stem for p in screens.DOCUMENTS.glob("*.json")}


def test_the_page_carries_the_document_its_data_and_the_viewport() -> None:
    document, data, elapsed = render_apl.samples()["hug"]
    spot = next(v for v in render_apl.VIEWPORTS if v.shape == "round")
    html = render_apl.page(screens.document(document), data, spot, elapsed)
    assert json.dumps(screens.document("hug")) in html
    assert json.dumps(data) in html and "border-radius: 50%" in html
    assert '"shape": "round"' in html and str(elapsed) in html


def test_the_committed_screenshots_cover_every_preview_at_every_viewport() -> None:
    made = {p.name for p in (DOCS / "screens").glob("*.png")}
    assert made == {f"{name}-{v.name}.png" for name in render_apl.samples()
                    for v in render_apl.VIEWPORTS}


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="needs chromium (deploy/install-system-packages.sh test)")
def test_chromium_photographs_a_document_at_its_viewport(tmp_path: Path, capsys) -> None:
    assert render_apl.main(["--only", "round", "--viewport", "spot", "--out",
                            str(tmp_path)]) == 0
    shot = tmp_path / "round-spot.png"
    assert _png_size(shot) == (480, 480)
    assert "Echo Spot" in capsys.readouterr().out

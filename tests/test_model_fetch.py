"""`closer model fetch` against a real HTTP server on loopback: a good download installs the
model atomically; a truncated, corrupt or tampered one installs nothing and keeps an old
model intact."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from speech.stt.models import Download, FetchError, fetch, find_model, is_model
from tests.support.file_server import serving

pytestmark = pytest.mark.system  # a download server on loopback

ROOT = Path(__file__).resolve().parent.parent
CLOSER = str(Path(sys.executable).parent / "closer")


def model_zip(top: str = "vosk-model-small-xx-0.1", marker: str = "new") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{top}/am/final.mdl", b"acoustic model " * 200)
        z.writestr(f"{top}/conf/model.conf", b"--sample-frequency=16000\n")
        z.writestr(f"{top}/graph/HCLr.fst", b"graph")
        z.writestr(f"{top}/README", marker)
    return buf.getvalue()


# What the download server holds: a good model, and the ways a download goes wrong.
GOOD_FILES: dict[str, bytes] = {}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    good = model_zip()
    GOOD_FILES.update({
        "/good.zip": good,
        "/cut/good.zip": good[: len(good) // 2],
        "/corrupt.zip": good[:100] + bytes(len(good) - 100),
        "/notamodel.zip": _zip_of({"hello.txt": b"hi"}),
        "/evil.zip": _zip_of({"../escaped.txt": b"x", "m/am/final.mdl": b"x",
                              "m/conf/model.conf": b"x"}),
    })
    with serving(GOOD_FILES) as url:
        yield url


def _zip_of(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".closer-model-"))


def test_fetch_installs_the_model_and_says_where(server: str, tmp_path: Path) -> None:
    body = GOOD_FILES["/good.zip"]
    dest = tmp_path / "models" / "en"
    env = dict(os.environ, CLOSER_VOSK_MODEL=str(tmp_path / "unused"))
    proc = subprocess.run([CLOSER, "model", "fetch", "--url", f"{server}/good.zip",
                           "--sha256", sha(body), "--dest", str(dest)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert str(dest) in proc.stdout
    assert is_model(dest) and (dest / "README").read_text() == "new"
    assert leftovers(dest.parent) == []


def test_the_configured_directory_finds_an_installed_model(server: str, tmp_path: Path) -> None:
    body = GOOD_FILES["/good.zip"]
    dest = fetch(Download(f"{server}/good.zip", sha(body), len(body)), tmp_path / "m")
    assert find_model(dest) == dest
    assert find_model(tmp_path / "nothing-here") is None


@pytest.mark.parametrize(("path", "why"), [
    ("/cut/good.zip", "cut short"),  # connection closed early
    ("/corrupt.zip", "SHA-256"),
    ("/notamodel.zip", "SHA-256"),
])
def test_bad_downloads_install_nothing(server: str, tmp_path: Path, path: str,
                                       why: str) -> None:
    expected = sha(GOOD_FILES["/good.zip"])
    dest = tmp_path / "model"
    with pytest.raises(FetchError, match=why):
        fetch(Download(f"{server}{path}", expected, None), dest)
    assert not dest.exists()
    assert leftovers(tmp_path) == []


def test_size_mismatch_is_caught_before_the_checksum(server: str, tmp_path: Path) -> None:
    body = GOOD_FILES["/good.zip"]
    with pytest.raises(FetchError, match="bytes"):
        fetch(Download(f"{server}/good.zip", sha(body), len(body) + 1), tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_a_failed_update_keeps_the_old_model(server: str, tmp_path: Path) -> None:
    body = GOOD_FILES["/good.zip"]
    dest = fetch(Download(f"{server}/good.zip", sha(body), len(body)), tmp_path / "m")
    (dest / "README").write_text("old")
    with pytest.raises(FetchError):
        fetch(Download(f"{server}/corrupt.zip", sha(body), None), dest)
    assert (dest / "README").read_text() == "old"
    assert leftovers(tmp_path) == []


def test_archives_that_are_no_model_or_escape_are_refused(server: str, tmp_path: Path) -> None:
    for path, why in (("/notamodel.zip", "no Vosk model"), ("/evil.zip", "unsafe path")):
        body = GOOD_FILES[path]
        with pytest.raises(FetchError, match=why):
            fetch(Download(f"{server}{path}", sha(body), len(body)), tmp_path / "m")
        assert not (tmp_path / "m").exists()
    assert not (tmp_path.parent / "escaped.txt").exists()


def test_cli_mismatch_is_one_clear_line_and_exit_1(server: str, tmp_path: Path) -> None:
    proc = subprocess.run([CLOSER, "model", "fetch", "--url", f"{server}/good.zip",
                           "--sha256", "0" * 64, "--dest", str(tmp_path / "m")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "SHA-256 mismatch" in proc.stderr and "nothing was installed" in proc.stderr
    assert not (tmp_path / "m").exists()


def test_unreachable_server_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="download failed"):
        fetch(Download("http://127.0.0.1:9/none.zip", "0" * 64, None), tmp_path / "m")
    assert not (tmp_path / "m").exists()

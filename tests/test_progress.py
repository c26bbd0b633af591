"""Saved progress: written atomically, read back, and an unusable file set aside with one notice."""

from __future__ import annotations

import json

import pytest

from voice_guide import progress
from voice_guide.progress import Progress


def test_round_trip_and_clear(guide_home):
    path = progress.save(Progress("self-massage", 3, saved_at=1.5))
    assert path.parent == guide_home / "data"
    assert progress.load() == progress.Loaded(Progress("self-massage", 3, 1.5))
    progress.clear()
    assert progress.load() == progress.Loaded(None)
    progress.clear()  # clearing twice is fine


def test_nothing_half_written_is_left(guide_home):
    progress.save(Progress("quiet-face", 1))
    progress.save(Progress("quiet-face", 2))
    assert [p.name for p in (guide_home / "data").iterdir()] == ["progress.json"]


GOOD = {"format": "voice-guide-progress", "version": 1, "item": "quiet-face", "step": 2}

BAD = [
    ("corrupt", b"{not json"),
    ("truncated", json.dumps(GOOD).encode()[:30]),
    ("newer", json.dumps({**GOOD, "version": 99}).encode()),
    ("not ours", json.dumps({"format": "something-else", "item": "x"}).encode()),
    ("a list", b"[1, 2, 3]"),
    ("no item", json.dumps({**GOOD, "item": ""}).encode()),
    ("bad step", json.dumps({**GOOD, "step": "two"}).encode()),
    ("negative step", json.dumps({**GOOD, "step": -1}).encode()),
    ("not text", b"\xff\xfe\x00garbage\x81"),
]


@pytest.mark.parametrize("why, data", BAD, ids=[b[0] for b in BAD])
def test_unusable_file_is_kept_aside_and_told_once(guide_home, why, data):
    path = progress.progress_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    loaded = progress.load()
    assert loaded.progress is None
    assert "could not be used" in loaded.notice and "start from the menu" in loaded.notice
    backups = list(path.parent.glob("progress.json.bad-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == data
    assert backups[0].name in loaded.notice
    assert not path.exists()
    assert progress.load() == progress.Loaded(None)  # told once: the next start is quiet


def test_older_fields_are_tolerated(guide_home):
    path = progress.progress_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({**GOOD, "saved_at": "yesterday", "extra": True}))
    assert progress.load().progress == Progress("quiet-face", 2, 0.0)


# ---- issue 10, defect 4: one place per item, merged under a lock ------------------------------------

def test_each_item_keeps_its_own_place(guide_home):
    progress.save(Progress("self-massage", 3, saved_at=10.0))
    progress.save(Progress("safety-notice", 1, saved_at=20.0))
    loaded = progress.load()
    assert loaded.progress == Progress("safety-notice", 1, 20.0)  # the latest is offered at the menu
    assert loaded.places == {"self-massage": Progress("self-massage", 3, 10.0),
                             "safety-notice": Progress("safety-notice", 1, 20.0)}
    progress.store(progress.Forget("safety-notice"))  # finished: only its own place goes
    assert progress.load().places == {"self-massage": Progress("self-massage", 3, 10.0)}
    progress.store(progress.Forget("self-massage"))
    assert not progress.progress_path().exists()
    assert sorted(p.name for p in (guide_home / "data").iterdir()) == []  # no lock file left behind


def test_a_version_1_file_is_still_read(guide_home):
    path = progress.progress_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({**GOOD, "saved_at": 5.0}))
    assert progress.load().places == {"quiet-face": Progress("quiet-face", 2, 5.0)}
    progress.save(Progress("self-massage", 1, saved_at=6.0))
    assert set(progress.load().places) == {"quiet-face", "self-massage"}


@pytest.mark.slow
def test_two_guides_saving_at_once_keep_both_places(guide_home):
    """Two processes on one home, each saving its own item's place many times."""
    import os
    import subprocess
    import sys

    script = ("import sys; from voice_guide import progress\n"
              "for step in range(60): progress.save(progress.Progress(sys.argv[1], step))\n")
    procs = [subprocess.Popen([sys.executable, "-c", script, name], env=dict(os.environ))
             for name in ("self-massage", "safety-notice")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    places = progress.load().places
    assert {name: p.step for name, p in places.items()} == {"self-massage": 59, "safety-notice": 59}

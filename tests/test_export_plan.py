"""An export request checked once into a plan: what each file is called and tagged, and every refusal
made before anything is rendered. The writing itself is in test_export."""

from __future__ import annotations

import dataclasses
import re

import pytest

from voice_guide.content.loader import library_from_items
from voice_guide.content.model import Item, Step
from voice_guide.engines import VoiceSettings
from voice_guide.export.tracks import ALBUM
from voice_guide.errors import ExportError, UsageError
from voice_guide.export.writer import export_library
from voice_guide.export.plan import CHAPTER_LIST, COMMENT, MAX_JOBS, plan_export
from voice_guide.testing import FakeEncoder, FakeSynthesizer

VOICE = VoiceSettings(rate=300)
ITEMS = [Item(f"item-{n}", f"Item {n}: part", "topic", (Step(f"Sentence {n}."),), order=n) for n in range(1, 12)]
LIBRARY = library_from_items((f"topics/{i.name}.toml", i) for i in ITEMS)


def plan(out, names=(), fmt="mp3", **kw):
    return plan_export(LIBRARY, list(names), out, fmt, VOICE, kw.pop("encoder", FakeEncoder()), **kw)


def test_tracks_are_numbered_by_their_place_in_the_whole_library(tmp_path):
    p = plan(tmp_path, ["item-11", "item-2"])
    assert [t.file for t in p.tracks] == ["02 - Item 2 - part.mp3", "11 - Item 11 - part.mp3"]
    assert [(t.tags.title, t.tags.track, t.tags.total, t.tags.comment) for t in p.tracks] == [
        ("Item 2: part", 2, 11, COMMENT), ("Item 11: part", 11, 11, COMMENT)]
    assert p.files == [t.file for t in p.tracks] and not p.single_file


def test_a_single_file_holds_every_chosen_item_with_its_chapter_list(tmp_path):
    p = plan(tmp_path, ["item-3", "item-1"], fmt="ogg", single_file=True)
    (track,) = p.tracks
    assert (track.file, track.tags.title, track.tags.track, track.tags.total) == ("voice-guide.ogg", ALBUM, 1, 1)
    assert [i.name for i in track.items] == ["item-1", "item-3"]
    assert p.files == ["voice-guide.ogg", CHAPTER_LIST]


def test_jobs_are_at_least_one_and_default_to_the_cores(tmp_path):
    assert plan(tmp_path, jobs=2).jobs == 2
    assert 1 <= plan(tmp_path).jobs <= MAX_JOBS


def test_a_plan_cannot_be_changed(tmp_path):
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan(tmp_path).fmt = "wav"  # type: ignore[misc]


@pytest.mark.parametrize("names, fmt, where, error, message", [
    (["nope"], "mp3", ".", UsageError, "no topic or session called 'nope'; choose one of: item-1"),
    ([], "flac", ".", UsageError, "The format 'flac' is not supported; choose one of mp3, ogg, wav, m4a."),
    ([], "mp3", "missing", ExportError, "does not exist; create it or choose another with --out."),
    ([], "mp3", "a-file", ExportError, "is a file, not a folder; choose a folder with --out."),
    ([], "m4a", ".", ExportError, "m4a files cannot be written here."),
])
def test_every_refusal_comes_before_anything_is_made(tmp_path, names, fmt, where, error, message):
    (tmp_path / "a-file").write_text("x")
    encoder = FakeEncoder(refuse=["m4a"])
    with pytest.raises(error, match=re.escape(message)):
        plan(tmp_path / where, names, fmt, encoder=encoder)
    assert encoder.encoded == []


def test_the_export_takes_the_plan_as_given(tmp_path, guide_home):
    """The plan is checked once: writing it asks the encoder nothing more."""
    encoder = FakeEncoder()
    p = plan(tmp_path, ["item-1", "item-2"], fmt="ogg", encoder=encoder)
    result = export_library(p, FakeSynthesizer(), encoder)
    assert encoder.checked == ["ogg"]
    assert [t.file for t in result.tracks] == [t.file for t in p.tracks]
    encoded = sorted(((fmt, tags) for fmt, tags, _ in encoder.encoded), key=lambda done: done[1].track)
    assert encoded == [("ogg", t.tags) for t in p.tracks]  # tracks are made in parallel, in any order

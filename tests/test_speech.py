"""Sentence splitting, the speech cache and choosing the synthesiser."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from voice_guide.engines import Synthesizer, VoiceSettings
from voice_guide.errors import UsageError
from voice_guide.audio import wav_bytes
from voice_guide.settings import Settings
from voice_guide.speaking.speech import CachedSynthesizer, read_wav, voice_settings
from voice_guide.engine_table import open_synthesizer
from voice_guide.testing import FakeSynthesizer
from voice_guide.speaking.text import split_sentences


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", []),
        ("   \n  ", []),
        ("Sit down.", ["Sit down."]),
        ("Sit down. Close your eyes.", ["Sit down.", "Close your eyes."]),
        ("Is it sore? Stop at once! Then rest.", ["Is it sore?", "Stop at once!", "Then rest."]),
        ("See Dr. Smith today. Then rest.", ["See Dr. Smith today.", "Then rest."]),
        ("Use a mild oil, e.g. almond oil. Rest.", ["Use a mild oil, e.g. almond oil.", "Rest."]),
        ("First line\nsecond line", ["First line", "second line"]),
        ('He said "stop." Then rest.', ['He said "stop."', "Then rest."]),
        ("Version 1.5 is fine.", ["Version 1.5 is fine."]),
    ],
)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


def test_long_sentences_are_split_at_clauses_then_words():
    sentence = ", ".join(f"clause number {i} goes here" for i in range(30)) + "."
    pieces = split_sentences(sentence, max_chars=80)
    assert all(len(p) <= 80 for p in pieces)
    assert " ".join(pieces).split() == sentence.split()
    words = " ".join(["word"] * 100)
    pieces = split_sentences(words, max_chars=30)
    assert all(len(p) <= 30 for p in pieces) and " ".join(pieces) == words


def test_voice_settings_follow_settings():
    assert voice_settings(Settings(rate=120, volume=0.5, voice="en-us")) == VoiceSettings(120, 0.5, "en-us")


def test_wav_round_trip(tmp_path):
    audio = FakeSynthesizer().synthesize("one two", VoiceSettings())
    path = tmp_path / "a.wav"
    path.write_bytes(wav_bytes(audio))
    back = read_wav(path, audio.rate)
    assert back.rate == audio.rate
    assert np.allclose(back.samples, audio.samples, atol=1e-4)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_read_wav_rejects_damaged_files(tmp_path, damage):
    data = wav_bytes(FakeSynthesizer().synthesize("one two three", VoiceSettings()))
    data = {"truncate": data[: len(data) // 2], "garbage": b"not a wav file at all" * 10, "empty": b""}[damage]
    path = tmp_path / "bad.wav"
    path.write_bytes(data)
    with pytest.raises(ValueError):
        read_wav(path, 22050)


def test_cache_renders_each_text_once(tmp_path):
    fake = FakeSynthesizer()
    synth = CachedSynthesizer(fake, cache_dir=tmp_path)
    assert isinstance(synth, Synthesizer)
    first = synth.synthesize("Breathe in.", VoiceSettings())
    again = synth.synthesize("Breathe in.", VoiceSettings())
    assert fake.calls == ["Breathe in."]
    assert np.array_equal(first.samples, again.samples) and first.rate == again.rate
    assert (synth.hits, synth.misses) == (1, 1)


@pytest.mark.parametrize(
    "other",
    [VoiceSettings(rate=100), VoiceSettings(volume=0.5), VoiceSettings(voice="en-us")],
)
def test_cache_key_includes_voice_settings(tmp_path, other):
    fake = FakeSynthesizer()
    synth = CachedSynthesizer(fake, cache_dir=tmp_path)
    synth.synthesize("Rest.", VoiceSettings())
    synth.synthesize("Rest.", other)
    assert fake.calls == ["Rest.", "Rest."]


def test_cache_key_includes_engine_name(tmp_path):
    class Other(FakeSynthesizer):
        name = "other"

    a, b = CachedSynthesizer(FakeSynthesizer(), tmp_path), CachedSynthesizer(Other(), tmp_path)
    assert a.key("Rest.", VoiceSettings()) != b.key("Rest.", VoiceSettings())


class Named(FakeSynthesizer):
    """A fake voice of the table: its engine's name and sample rate."""

    def __init__(self, name: str, rate: int, notice: str = "") -> None:
        super().__init__(rate)
        self.name, self.notice = name, notice


def _switched(tmp_path, others: dict):
    """A cache around joe (22.05 kHz) and the voices of `others` (table name -> synthesiser) tried
    by ear, as `open_synthesizer` builds it."""
    from voice_guide.speaking.voices import VoiceSwitch

    switch = VoiceSwitch(Named("piper:joe", 22050), lambda voice: others[voice.name], lambda text: None)
    return CachedSynthesizer(switch, cache_dir=tmp_path, route=switch.route)


def test_a_voice_tried_by_ear_is_kept_at_its_own_rate_and_read_back(tmp_path):
    bella = Named("kokoro:af_bella", 24000)
    first = _switched(tmp_path, {"bella": bella}).synthesize("Rest now.", VoiceSettings(voice="bella"))
    assert first.rate == 24000 and bella.calls == ["Rest now."]
    again_bella = Named("kokoro:af_bella", 24000)
    again = _switched(tmp_path, {"bella": again_bella})
    audio = again.synthesize("Rest now.", VoiceSettings(voice="bella"))
    assert again_bella.calls == [] and (again.hits, again.misses) == (1, 0)
    assert audio.rate == 24000 and np.allclose(audio.samples, first.samples, atol=1e-4)


def test_a_stand_ins_sound_is_kept_as_its_own_never_as_the_wanted_voices(tmp_path):
    stand_in = Named("piper:joe", 22050, notice="Bella could not be used, so Joe speaks instead.")
    said = _switched(tmp_path, {"bella": stand_in}).synthesize("Rest now.", VoiceSettings(voice="bella"))
    bella = Named("kokoro:af_bella", 24000)
    mended = _switched(tmp_path, {"bella": bella})
    audio = mended.synthesize("Rest now.", VoiceSettings(voice="bella"))
    assert bella.calls == ["Rest now."] and audio.rate == 24000 and said.rate == 22050
    import wave

    rates = []
    for path in tmp_path.rglob("*.wav"):
        with wave.open(str(path)) as w:
            rates.append(w.getframerate())
    assert sorted(rates) == [22050, 24000]  # joe's sound and bella's, each kept


def test_the_key_of_a_voice_tried_by_ear_is_that_voices(tmp_path):
    bella = Named("kokoro:af_bella", 24000)
    synth = _switched(tmp_path, {"bella": bella})
    own = CachedSynthesizer(bella, cache_dir=tmp_path)
    assert synth.key("Rest.", VoiceSettings(voice="bella")) == own.key("Rest.", VoiceSettings(voice="af_bella"))
    assert synth.key("Rest.", VoiceSettings()) != own.key("Rest.", VoiceSettings())


def test_disk_cache_survives_a_new_process(tmp_path):
    CachedSynthesizer(FakeSynthesizer(), cache_dir=tmp_path).synthesize("Rest now.", VoiceSettings())
    fake = FakeSynthesizer()
    audio = CachedSynthesizer(fake, cache_dir=tmp_path).synthesize("Rest now.", VoiceSettings())
    assert fake.calls == []
    assert audio.duration > 0
    assert not list(tmp_path.rglob("*.part"))


def test_corrupt_cache_file_is_deleted_and_rendered_again(tmp_path):
    first = CachedSynthesizer(FakeSynthesizer(), cache_dir=tmp_path)
    expected = first.synthesize("Rest now.", VoiceSettings())
    path = first.path(first.key("Rest now.", VoiceSettings()))
    path.write_bytes(path.read_bytes()[:50])
    fake = FakeSynthesizer()
    audio = CachedSynthesizer(fake, cache_dir=tmp_path).synthesize("Rest now.", VoiceSettings())
    assert fake.calls == ["Rest now."]
    assert np.allclose(audio.samples, expected.samples)
    assert read_wav(path, 22050).duration == pytest.approx(expected.duration, abs=1e-3)


def _cached_with_header(tmp_path, rate: int, frames: int | None = None):
    """A cache whose file for "Rest now." says `rate` samples a second (and `frames` samples) in its
    header, the samples being the voice's own."""
    import struct

    first = CachedSynthesizer(FakeSynthesizer(), cache_dir=tmp_path)
    expected = first.synthesize("Rest now.", VoiceSettings())
    path = first.path(first.key("Rest now.", VoiceSettings()))
    data = bytearray(path.read_bytes())
    data[24:28] = struct.pack("<I", rate)
    data[28:32] = struct.pack("<I", rate * 2)
    if frames is not None:
        data[40:44] = struct.pack("<I", frames * 2)
        data[4:8] = struct.pack("<I", 36 + frames * 2)
    path.write_bytes(bytes(data))
    return path, expected


@pytest.mark.parametrize("rate, frames", [(1, None), (8000, None), (4_000_000, None), (22050, 1_000_000_000)])
def test_a_cached_sound_whose_header_lies_is_rendered_again(tmp_path, rate, frames):
    """Issue 17 item 3: a cache WAV claiming 1 Hz (an export of 11.5 GB), 8 kHz or 4 MHz (speech at the
    wrong speed) or 2 GB of samples (MemoryError) is not the voice's: deleted and rendered again."""
    path, expected = _cached_with_header(tmp_path, rate, frames)
    fake = FakeSynthesizer()
    audio = CachedSynthesizer(fake, cache_dir=tmp_path).synthesize("Rest now.", VoiceSettings())
    assert fake.calls == ["Rest now."]
    assert audio.rate == expected.rate and np.allclose(audio.samples, expected.samples)
    assert read_wav(path, expected.rate).duration == pytest.approx(expected.duration, abs=1e-3)


def test_memory_cache_is_bounded_and_least_recently_used_goes_first(tmp_path):
    fake = FakeSynthesizer()
    synth = CachedSynthesizer(fake, cache_dir=tmp_path, memory_items=2)
    for text in ["a.", "b.", "a.", "c."]:
        synth.synthesize(text, VoiceSettings())
    shutil.rmtree(tmp_path)  # only the memory is left: what it kept is said without the engine
    for text in ["c.", "a.", "b."]:
        synth.synthesize(text, VoiceSettings())
    assert fake.calls == ["a.", "b.", "c.", "b."]


def test_changing_returned_samples_does_not_change_the_cache(tmp_path):
    synth = CachedSynthesizer(FakeSynthesizer(), cache_dir=tmp_path)
    audio = synth.synthesize("Rest.", VoiceSettings())
    original = audio.samples.copy()
    audio.samples[:] = 0.0
    assert np.array_equal(synth.synthesize("Rest.", VoiceSettings()).samples, original)


def test_unwritable_cache_only_costs_speed(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    fake = FakeSynthesizer()
    synth = CachedSynthesizer(fake, cache_dir=blocker / "speech")
    assert synth.synthesize("Rest.", VoiceSettings()).duration > 0


def test_default_cache_folder_is_under_the_guide_home(guide_home):
    synth = CachedSynthesizer(FakeSynthesizer())
    synth.synthesize("Rest.", VoiceSettings())
    assert list((guide_home / "cache" / "speech").rglob("*.wav"))


def test_close_closes_the_engine(tmp_path):
    fake = FakeSynthesizer()
    CachedSynthesizer(fake, cache_dir=tmp_path).close()
    assert fake.closed


@pytest.mark.parametrize("name", ["pyttsx3", "espeak-ng"])
def test_open_synthesizer_picks_the_engine_and_caches_it(guide_home, name):
    synth = open_synthesizer(Settings(synthesizer=name))
    try:
        assert isinstance(synth, CachedSynthesizer) and synth.name == name
        first = synth.synthesize("Let your shoulders drop.", VoiceSettings())
        again = synth.synthesize("Let your shoulders drop.", VoiceSettings())
    finally:
        synth.close()
    assert first.duration > 1.0
    assert np.array_equal(first.samples, again.samples)
    assert (synth.hits, synth.misses) == (1, 1)


def test_open_synthesizer_rejects_unknown_engines(guide_home):
    with pytest.raises(UsageError):
        open_synthesizer(Settings(synthesizer="festival"))

import numpy as np
import pytest

from voice_guide.speaking import cues
from voice_guide.audio import Audio, rms_dbfs, tone
from voice_guide.content.model import Item, Step
from voice_guide.engines import VoiceSettings
from voice_guide.speaking.render import (HALFWAY_GAIN_DB, PEAK_LIMIT, RATE, SPEECH_DBFS, display_title, join_items,
                                         render_item, soft_limit, spoken_title, voiced_dbfs)
from voice_guide.testing import FakeSynthesizer
from voice_guide.timeline import CUE_SECONDS, HALFWAY_TEXT, total_seconds

VOICE = VoiceSettings(rate=300)


def session(length=30.0):
    return Item(
        name="s", title="Quiet session", kind="session", length=length,
        steps=(Step("Sit quietly and rest.", hold=6.0, cue=True, label="settle"),
               Step("Breathe.", fill=True, cue=True, halfway=True, label="breathing", title="calm breathing"),
               Step("Rest your hands.", hold=5.0, halfway=True),
               Step("Done.", hold=1.0)),
    )


class ScaledSynth(FakeSynthesizer):
    """The fake voice, louder or quieter, at another sample rate."""

    def __init__(self, factor, rate=16000):
        super().__init__(rate=rate)
        self.factor = factor

    def synthesize(self, text, settings):
        return super().synthesize(text, settings).gain(self.factor)


def test_track_lasts_exactly_the_timeline_and_the_planned_length():
    r = render_item(session(), FakeSynthesizer(), VOICE)
    assert len(r.audio) == round(total_seconds(r.segments) * RATE)
    assert r.duration == pytest.approx(30.0, abs=1 / RATE)


@pytest.mark.parametrize("rate", [100, 150, 250])
def test_session_length_holds_at_any_speaking_rate(rate):
    r = render_item(session(60.0), FakeSynthesizer(), VoiceSettings(rate=rate))
    assert r.duration == pytest.approx(60.0, abs=1 / RATE)


def test_each_distinct_text_is_synthesised_once():
    synth = FakeSynthesizer()
    render_item(session(), synth, VOICE)
    assert sorted(synth.calls) == sorted(set(synth.calls))
    assert synth.calls.count(HALFWAY_TEXT) == 1


def test_pieces_sit_where_the_timeline_says():
    r = render_item(session(), FakeSynthesizer(), VOICE)
    s = r.audio.samples
    chime_start, chime_end = cues.chime(False).samples, cues.chime(True).samples
    kinds = []
    for seg in r.segments:
        a, b = round(seg.start * RATE), round(seg.end * RATE)
        part = s[a:b]
        if seg.kind == "silence":
            assert not np.any(part), seg
        elif seg.kind == "cue":
            assert np.array_equal(part, chime_start[: len(part)]) or np.array_equal(part, chime_end[: len(part)])
            kinds.append("start" if np.array_equal(part, chime_start[: len(part)]) else "end")
        else:
            assert rms_dbfs(part) > -40, seg
    assert kinds == ["start", "end"] * (len(kinds) // 2) and kinds
    assert all(seg.duration == CUE_SECONDS for seg in r.segments if seg.kind == "cue")


def test_halfway_is_a_little_softer_than_the_guidance_and_clearly_audible():
    r = render_item(session(), FakeSynthesizer(), VOICE)
    level = {}
    for seg in r.segments:
        if seg.kind in ("speech", "halfway"):
            part = r.audio.samples[round(seg.start * RATE): round(seg.end * RATE)]
            level.setdefault(seg.kind, []).append(voiced_dbfs(part, RATE))
    speech = sum(level["speech"]) / len(level["speech"])
    assert all(HALFWAY_GAIN_DB - 1 < h - speech < 0 for h in level["halfway"])
    assert HALFWAY_GAIN_DB >= -3  # clearly audible: within 3 dB of the speech


@pytest.mark.parametrize("factor", [0.05, 0.3, 1.0])
def test_speech_is_evened_out_to_one_level(factor):
    r = render_item(session(), ScaledSynth(factor), VOICE)
    speech = np.concatenate([r.audio.samples[round(g.start * RATE): round(g.end * RATE)]
                             for g in r.segments if g.kind == "speech"])
    assert voiced_dbfs(speech, RATE) == pytest.approx(SPEECH_DBFS, abs=0.5)


def test_volume_setting_scales_the_evened_level():
    quiet = render_item(session(), FakeSynthesizer(), VoiceSettings(rate=300, volume=0.5))
    full = render_item(session(), FakeSynthesizer(), VOICE)
    ratio = np.max(np.abs(quiet.audio.samples[:RATE])) / np.max(np.abs(full.audio.samples[:RATE]))
    assert ratio == pytest.approx(0.5, rel=0.02)


def test_peaks_are_limited_never_clipped():
    class Spiky(FakeSynthesizer):
        def synthesize(self, text, settings):
            audio = super().synthesize(text, settings)
            samples = audio.samples * 0.05
            samples[:: 400] = 1.0  # rare full-scale clicks on a quiet voice
            return Audio(samples, audio.rate)

    r = render_item(session(), Spiky(), VOICE)
    assert np.max(np.abs(r.audio.samples)) < 1.0
    assert np.max(np.abs(r.audio.samples)) > PEAK_LIMIT


def test_soft_limit_leaves_quiet_samples_alone_and_stays_monotonic():
    x = np.linspace(-3, 3, 601, dtype=np.float32)
    y = soft_limit(x)
    quiet = np.abs(x) <= PEAK_LIMIT
    assert np.array_equal(y[quiet], x[quiet])
    assert np.all(np.abs(y) < 1.0) and np.all(np.diff(y) >= 0)


def test_voiced_level_ignores_pauses():
    voice = tone(200, 1.0, RATE, volume=0.1, fade=0.0).samples
    with_pauses = np.concatenate([voice, np.zeros(RATE * 3, dtype=np.float32), voice])
    assert voiced_dbfs(with_pauses, RATE) == pytest.approx(voiced_dbfs(voice, RATE), abs=0.2)
    assert voiced_dbfs(np.zeros(100, dtype=np.float32), RATE) == float("-inf")


@pytest.mark.parametrize("title, safety, spoken, shown", [
    ("What to do", False, "What to do", "What to do"),
    ("When to get help", True, "Safety notice. When to get help", "Safety notice: When to get help"),
    ("Safety notice", True, "Safety notice", "Safety notice"),
])
def test_safety_items_are_marked(title, safety, spoken, shown):
    item = Item("x", title, "topic", (Step("Words.", hold=0.5),), safety=safety)
    assert spoken_title(item) == spoken and display_title(item) == shown
    synth = FakeSynthesizer()
    r = render_item(item, synth, VOICE)
    assert synth.calls[0] == spoken and r.segments[0].text == spoken


def test_chapters_cover_the_track_one_per_step():
    r = render_item(session(), FakeSynthesizer(), VOICE)
    assert [c.title for c in r.chapters] == ["Settle", "Calm breathing", "Step 3", "Step 4"]  # spoken titles first
    assert r.chapters[0].start == 0.0 and r.chapters[-1].end == pytest.approx(r.duration)
    for a, b in zip(r.chapters, r.chapters[1:]):
        assert a.end == b.start


def test_join_items_adds_gaps_and_one_chapter_per_item():
    topic = Item("t", "Topic", "topic", (Step("Hello there.", hold=0.5),))
    parts = [render_item(topic, FakeSynthesizer(), VOICE), render_item(session(), FakeSynthesizer(), VOICE)]
    audio, chapters = join_items(parts, gap=2.0)
    assert audio.duration == pytest.approx(parts[0].duration + 2.0 + parts[1].duration, abs=2 / RATE)
    assert [c.title for c in chapters] == ["Topic", "Quiet session"]
    assert chapters[1].start == pytest.approx(parts[0].duration + 2.0)

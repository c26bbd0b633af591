"""The no-words switch: clicks, taps and hums are found; speech and room noise are not."""

import numpy as np
import pytest

from voice_guide.audio import Audio
from voice_guide.hearing.switch import SwitchDetector, SwitchProfile, TransientWatcher, measure

from degraded_speaker import COMMANDS, OTHER_WORDS, clean_take, hum, room, room_noise, table_tap, take, tongue_click


def detector(kind: str, examples=()) -> SwitchDetector:
    return SwitchDetector(SwitchProfile(kind=kind, enabled=True, examples=[measure(e) for e in examples]))


@pytest.mark.parametrize("kind, make", [("click", tongue_click), ("click", table_tap), ("hum", hum)])
def test_switch_sounds_are_detected(kind, make):
    found = [detector(kind).detect(make(seed)) for seed in range(10)]
    assert sum(found) >= 9


@pytest.mark.parametrize("kind, make", [("click", tongue_click), ("click", table_tap), ("hum", hum)])
@pytest.mark.slow
def test_switch_sounds_are_detected_in_an_echoing_room(kind, make):
    found = [detector(kind).detect(room(make(seed), 0.5, seed)) for seed in range(10)]
    assert sum(found) >= 9


@pytest.mark.parametrize("kind", ["click", "hum"])
@pytest.mark.slow
def test_speech_in_an_echoing_room_does_not_trigger(kind):
    sounds = [room(take(w, 0, held_out=True), 0.5, i) for i, w in enumerate(COMMANDS)]
    assert [i for i, s in enumerate(sounds) if detector(kind).detect(s)] == []


@pytest.mark.parametrize("kind", ["click", "hum"])
@pytest.mark.slow
def test_speech_and_room_noise_do_not_trigger(kind):
    sounds = ([take(w, 0, held_out=True) for w in COMMANDS] + [clean_take(w) for w in OTHER_WORDS]
              + [room_noise(seed) for seed in range(10)])
    triggered = [i for i, s in enumerate(sounds) if detector(kind).detect(s)]
    assert triggered == []


def test_a_click_is_not_a_hum_and_a_hum_is_not_a_click():
    assert not detector("hum").detect(tongue_click(1))
    assert not detector("click").detect(hum(1))


def test_silence_and_empty_sound_are_nothing():
    rng = np.random.default_rng(0)
    assert measure(Audio(np.zeros(0, np.float32), 16000)) is None
    assert measure(Audio(rng.standard_normal(16000).astype(np.float32) * 1e-3, 16000)) is None
    assert not detector("click").detect(Audio(np.zeros(16000, np.float32), 16000))


def test_enrolled_hum_pitch_narrows_what_counts():
    low = [hum(seed, f0=110) for seed in range(3)]
    enrolled = detector("hum", low)
    assert enrolled.detect(hum(7, f0=115))
    assert not enrolled.detect(hum(7, f0=220))
    assert detector("hum").detect(hum(7, f0=220))


def test_profile_round_trip_and_refusals(tmp_path):
    path = tmp_path / "switch.json"
    profile = SwitchProfile("hum", "pause", True, [measure(hum(1))])
    profile.save(path)
    assert SwitchProfile.load(path) == profile
    path.write_text('{"format": "voice-guide-switch", "version": 1, "kind": "whistle", "action": "pause", '
                    '"enabled": true}')
    with pytest.raises(ValueError):
        SwitchProfile.load(path)
    path.write_text("{not json")
    with pytest.raises(ValueError):
        SwitchProfile.load(path)


def blocks_of(audio: Audio, size: int = 1600):
    x = audio.samples
    x = np.concatenate([x, np.zeros((-len(x)) % size, np.float32)])
    return x.reshape(-1, size)


def stream(*sounds: Audio) -> Audio:
    rng = np.random.default_rng(3)
    parts = [np.zeros(8000, np.float32)]
    for s in sounds:
        parts += [s.samples, np.zeros(8000, np.float32)]
    x = np.concatenate(parts)
    return Audio(x + rng.standard_normal(len(x)).astype(np.float32) * 1e-3, 16000)


def test_watcher_fires_once_per_click_in_a_stream_and_not_on_speech():
    watcher = TransientWatcher(detector("click"))
    audio = stream(tongue_click(1), take("pause", 0), table_tap(2), take("next", 1), room_noise(4))
    fired = [i for i, block in enumerate(blocks_of(audio)) if watcher.feed(block)]
    assert len(fired) == 2
    next_sound = (16000 + len(tongue_click(1))) / 1600
    assert 8000 / 1600 < fired[0] < next_sound

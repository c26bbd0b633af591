"""The voice-only enrolment conversation: prompts, take checks, saving, re-teaching, forgetting, the
switch sound, and the `enroll` command."""

import numpy as np
import pytest

from voice_guide import cli
from voice_guide.audio import Audio, concatenate
from voice_guide.voice.enrollment import (CORE, GIVE_UP_SILENT, MAX_TRIES, Enroller, check_take, commands_to_enrol,
                                            forget, mic_listener, recordings_listener, switch_off)
from voice_guide.errors import UsageError
from voice_guide.voice.personal import PersonalModel, voice_dir
from voice_guide.session.prompts import say
from voice_guide.audio import wav_bytes
from voice_guide.voice.templates import TemplateSet
from voice_guide.testing import FakeSynthesizer, MemoryAudioOut, ScriptedAudioIn

from degraded_speaker import hum, take, tongue_click


def quiet(word):
    return take(word, 0).gain(0.005)


def clipped(word):
    return take(word, 0).gain(40.0)


def too_long(word):
    return concatenate([take(w, 0) for w in (word, "water", "garden", "morning")], 16000)


def click():
    return tongue_click(0)


def run(takes, commands, tmp_path, n=3):
    synth, out = FakeSynthesizer(), MemoryAudioOut()
    enroller = Enroller(synth, out, recordings_listener(takes), data_dir=tmp_path, takes=n)
    return enroller.enrol(commands), synth, out


@pytest.mark.parametrize("make, problem", [
    (lambda: Audio(np.zeros(0, np.float32), 16000), "nothing"),
    (lambda: quiet("pause"), "quiet"),
    (lambda: clipped("pause"), "clipped"),
    (lambda: too_long("pause"), "long"),
    (click, "short"),
    (lambda: take("pause", 0), None),
    (lambda: take("quieter", 1, held_out=True), None),
])
@pytest.mark.slow
def test_check_take(make, problem):
    assert check_take(make()) == problem


@pytest.mark.slow
def test_a_clean_run_saves_every_command_and_talks_only(tmp_path):
    takes = [take(w, i) for w in ("pause", "next") for i in range(3)]
    report, synth, out = run(takes, ["pause", "next"], tmp_path)
    assert report.enrolled == ["pause", "next"] and report.skipped == [] and report.problems == {}
    assert synth.calls[1:5] == ["Say 'pause'.", "Again.", "Again.", "Thank you."]
    assert len(out.played) == len(synth.calls)
    saved = TemplateSet.load(voice_dir(tmp_path) / "templates.npz")
    assert {c: len(t) for c, t in saved.takes.items()} == {"pause": 3, "next": 3}
    assert PersonalModel.load(tmp_path).enrolled == ["next", "pause"]


@pytest.mark.slow
def test_bad_takes_are_asked_again_with_the_reason(tmp_path):
    takes = [take("pause", 0), None, quiet("pause"), take("pause", 1), clipped("pause"), too_long("pause"),
             take("pause", 2)]
    report, synth, _ = run([t for t in takes if t is not None], ["pause"], tmp_path)
    assert report.enrolled == ["pause"]
    assert report.problems == {"quiet": 1, "clipped": 1, "long": 1}
    assert f"{say('take.quiet')} Say 'pause'." in synth.calls
    assert f"{say('take.long')} Say 'pause'." in synth.calls


def test_a_command_is_left_after_too_many_bad_takes(tmp_path):
    report, synth, _ = run([quiet("pause")] * (MAX_TRIES * 3), ["pause"], tmp_path)
    assert report.enrolled == [] and report.skipped == ["pause"] and not report.stopped
    assert report.problems == {"quiet": MAX_TRIES * 3}
    assert "Let's leave 'pause' for another time." in synth.calls
    assert synth.calls[-1] == "Nothing was saved. You can try again any time."
    assert not (voice_dir(tmp_path) / "templates.npz").exists()


@pytest.mark.slow
def test_silence_is_asked_again_then_enrolment_stops(tmp_path):
    takes = [take("pause", i) for i in range(3)]
    report, synth, _ = run(takes, ["pause", "next", "yes"], tmp_path)
    assert report.enrolled == ["pause"] and report.skipped == ["next", "yes"] and report.stopped
    assert report.problems == {"nothing": GIVE_UP_SILENT}
    assert f"{say('take.nothing')} Say 'next'." in synth.calls
    assert synth.calls[-1] == "I will stop here. Run the enrolment again whenever you are ready."
    assert PersonalModel.load(tmp_path).enrolled == ["pause"]


@pytest.mark.slow
def test_a_take_unlike_the_others_is_asked_again_once(tmp_path):
    takes = [take("pause", 0), take("louder", 0), take("pause", 1), take("pause", 2)]
    report, synth, _ = run(takes, ["pause"], tmp_path)
    assert report.problems == {"unlike": 1}
    assert f"{say('take.unlike')} Say 'pause'." in synth.calls


@pytest.mark.slow
def test_reteaching_one_command_keeps_the_others(tmp_path):
    run([take(w, i) for w in ("pause", "next") for i in range(3)], ["pause", "next"], tmp_path)
    before = TemplateSet.load(voice_dir(tmp_path) / "templates.npz")
    run([take("pause", i) for i in range(3, 7)], ["pause"], tmp_path, n=4)
    after = TemplateSet.load(voice_dir(tmp_path) / "templates.npz")
    assert len(after.takes["pause"]) == 4
    assert all(np.array_equal(a, b) for a, b in zip(before.takes["next"], after.takes["next"]))


def test_forget_one_command_or_everything(tmp_path):
    run([take(w, i) for w in ("pause", "next") for i in range(3)], ["pause", "next"], tmp_path)
    assert forget(tmp_path, ["pause", "help"]) == ["pause"]
    assert PersonalModel.load(tmp_path).enrolled == ["next"]
    assert forget(tmp_path) == ["next"]
    assert not voice_dir(tmp_path).exists()
    assert forget(tmp_path) == []


def test_the_switch_sound_is_learnt_from_three_examples(tmp_path):
    sounds = [hum(1), take("next", 0), hum(2), hum(3)]
    enroller = Enroller(FakeSynthesizer(), MemoryAudioOut(), recordings_listener(sounds), data_dir=tmp_path)
    assert enroller.enrol_switch("hum", "pause")
    assert enroller.report.problems == {"not-switch": 1}
    model = PersonalModel.load(tmp_path)
    assert model.switch.enabled and model.switch.action == "pause" and len(model.switch.examples) == 3
    assert switch_off(tmp_path) and not PersonalModel.load(tmp_path).switch.enabled


@pytest.mark.parametrize("names, expected", [
    ((), list(CORE)), (("Pause", "pause", "faster"), ["pause", "faster"]),
])
def test_commands_to_enrol(names, expected):
    assert commands_to_enrol(names) == expected


def enroller(**kwargs) -> Enroller:
    return Enroller(FakeSynthesizer(), MemoryAudioOut(), recordings_listener([]), **kwargs)


@pytest.mark.parametrize("bad", [lambda: commands_to_enrol(["menu"]), lambda: enroller(takes=9),
                                 lambda: enroller().enrol_switch("whistle")])
def test_bad_requests_are_usage_errors(bad):
    with pytest.raises(UsageError):
        bad()


def test_mic_listener_finds_words_and_clicks():
    rng = np.random.default_rng(0)
    lead = Audio(rng.standard_normal(8000).astype(np.float32) * 1e-3, 16000)
    word = mic_listener(ScriptedAudioIn(concatenate([lead, take("pause", 0)], 16000), then_silence=1.5))("word", 5)
    assert word is not None and 0.4 < word.duration < 2.5 and check_take(word) is None
    heard = mic_listener(ScriptedAudioIn(concatenate([lead, click()], 16000), then_silence=1.0))("click", 5)
    assert heard is not None and len(heard.samples) > 0
    assert mic_listener(ScriptedAudioIn(lead, then_silence=2.0))("word", 1.0) is None


@pytest.mark.slow
def test_enroll_command_from_recordings(guide_home, tmp_path, capsys):
    files = []
    for i in range(3):
        files.append(tmp_path / f"pause{i}.wav")
        files[-1].write_bytes(wav_bytes(take("pause", i)))
    assert cli.main(["enroll", "pause", "--input", *map(str, files)]) == 0
    out = capsys.readouterr().out
    assert "Say 'pause'." in out and "Learned your voice for: pause." in out
    assert PersonalModel.load().enrolled == ["pause"]
    assert cli.main(["enroll", "--forget"]) == 0
    assert "Forgot your samples of: pause." in capsys.readouterr().out
    assert cli.main(["enroll", "pause", "--input", str(files[0])]) == 1
    assert "Left for another time: pause" in capsys.readouterr().out


def test_enroll_without_a_microphone_says_what_to_do(guide_home, capsys):
    from voice_guide.wiring import Devices

    assert cli.main(["enroll"], devices=Devices(listing=lambda: ([], []))) == 4
    err = capsys.readouterr().err
    assert "No microphone was found" in err and "--input" in err


@pytest.fixture
def own_sink(sound_server, monkeypatch):
    """A null sink of our own (kept awake by a reader), so nothing else on the server is heard."""
    import os
    import subprocess

    name = f"venrol{os.getpid()}"
    env = dict(os.environ, PULSE_SERVER=sound_server)
    module = subprocess.run(["pactl", "load-module", "module-null-sink", f"sink_name={name}"], env=env,
                            capture_output=True, text=True, check=True).stdout.strip()
    reader = subprocess.Popen(["parec", f"--device={name}.monitor", "--raw", "--latency-msec=100"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    monkeypatch.setenv("PULSE_SINK", name)
    monkeypatch.setenv("PULSE_SOURCE", f"{name}.monitor")
    yield name
    reader.kill()
    reader.wait()
    subprocess.run(["pactl", "unload-module", module], env=env, capture_output=True)


@pytest.mark.sound
def test_a_take_is_heard_through_the_sound_card(own_sink):
    import threading

    from voice_guide.adapters.sounddevice_audio import SounddeviceIn
    from voice_guide.adapters.sounddevice_speaker import SounddeviceOut
    from voice_guide.hearing.features import dtw_distance, utterance_features

    said = take("pause", 0)
    speaker = SounddeviceOut()
    timer = threading.Timer(0.8, lambda: speaker.play(said))
    timer.start()
    try:
        heard = mic_listener(SounddeviceIn(rate=16000, blocksize=1600))("word", 8.0)
    finally:
        timer.cancel()
        speaker.stop()
    assert heard is not None and check_take(heard) is None
    same = dtw_distance(utterance_features(heard), utterance_features(said))
    other = dtw_distance(utterance_features(heard), utterance_features(take("next", 0)))
    assert same < other

"""The Piper voice (real model, loaded once for the module) and the choice between voices."""

import json
import threading

import numpy as np
import pytest

from voice_guide import settings as settings_mod
from voice_guide.adapters.onnx_runtime import EXIT_WAIT, Renders, ShrinkingSession, session_options
from voice_guide.adapters.piper_tts import ENV_VOICE, PiperSynthesizer, PiperUnavailable, length_scale, voice_files
from voice_guide.errors import EngineError
from voice_guide.content.model import Item, Step
from voice_guide.engines import Synthesizer, VoiceSettings
from voice_guide.speaking.render import render_item
from voice_guide.engine_table import open_engine, open_synthesizer


@pytest.fixture(scope="module")
def piper():
    return PiperSynthesizer()


def test_speaks_the_packaged_voice(piper):
    assert isinstance(piper, Synthesizer)
    assert piper.name == "piper:en_US-joe-medium"
    audio = piper.synthesize("Rest your face.", VoiceSettings())
    assert audio.rate == 22050 and 0.5 < audio.duration < 3.0
    assert 0.05 < np.abs(audio.samples).max() <= 1.0


def test_rate_volume_and_sentence_pauses_follow_the_settings(piper):
    slow = piper.synthesize("Breathe in. Breathe out.", VoiceSettings(rate=100))
    fast = piper.synthesize("Breathe in. Breathe out.", VoiceSettings(rate=250))
    assert slow.duration > 1.8 * fast.duration
    assert length_scale(VoiceSettings(rate=100)) == pytest.approx(2.5 * length_scale(VoiceSettings(rate=250)))
    quiet = piper.synthesize("Breathe in. Breathe out.", VoiceSettings(rate=250, volume=0.2))
    assert np.abs(quiet.samples).max() < 0.5 * np.abs(fast.samples).max()
    # A quiet stretch between the two sentences: the sentence pause.
    frames = np.abs(slow.samples[: len(slow.samples) // 50 * 50]).reshape(-1, 50).max(axis=1)
    quiet_run = max(len(run) for run in "".join("q" if f < 0.01 else "s" for f in frames).split("s"))
    assert quiet_run * 50 / slow.rate >= 0.25


@pytest.mark.parametrize("text", ["", "   ", "...", "—", "(", "?!", "\0", "\x1b\u200b"])
def test_text_with_nothing_to_say_gives_an_empty_sound(piper, text):
    assert len(piper.synthesize(text, VoiceSettings())) == 0


def test_a_step_piper_cannot_say_never_stops_a_rendering(piper):
    item = Item("odd", "Odd", "topic", (Step("...", hold=0.2), Step("Rest.", hold=0.2)), order=0)
    rendered = render_item(item, piper, VoiceSettings(rate=250))
    assert rendered.duration > 0.5


def test_a_missing_or_damaged_voice_file_is_reported(tmp_path):
    with pytest.raises(PiperUnavailable, match="missing"):
        PiperSynthesizer(tmp_path / "none.onnx")
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"not a model")
    (tmp_path / "broken.onnx.json").write_text(json.dumps({"audio": {"sample_rate": 22050}, "num_symbols": 256,
                                                           "phoneme_id_map": {}}))
    with pytest.raises(PiperUnavailable, match="broken.onnx is unusable") as err:
        PiperSynthesizer(model)
    assert "setup.sh" in str(err.value)


def _voice(folder, change: str, value) -> "Path":
    """The packaged voice (its model linked) with one value of its config changed, as JSON text."""
    from voice_guide.adapters.piper_tts import voice_files

    model, config = voice_files()
    data = json.loads(config.read_text())
    part, name = change.split(".")
    data[part][name] = "VALUE"
    (folder / "x.onnx").symlink_to(model)
    (folder / "x.onnx.json").write_text(json.dumps(data).replace('"VALUE"', value))
    return folder / "x.onnx"


@pytest.mark.parametrize("change, value, why", [
    ("audio.sample_rate", "0", "audio.sample_rate must be 4000 to 384000 samples a second (a whole number), not 0"),
    ("audio.sample_rate", '"x"', "audio.sample_rate must be 4000 to 384000"),
    ("audio.sample_rate", "1", "audio.sample_rate must be 4000 to 384000"),
    ("audio.sample_rate", "1e9", "audio.sample_rate must be 4000 to 384000"),
    ("inference.length_scale", "1e6", "inference.length_scale must be 0.25 to 4, not 1000000.0"),
    ("inference.noise_scale", "NaN", "inference.noise_scale must be 0 to 2, not nan"),
])
def test_a_voice_config_out_of_range_is_refused_before_the_voice_loads(tmp_path, change, value, why):
    """Issue 17 item 3: such a config gave tracebacks, 4-12 GB, doctor's "ok" or a silent track."""
    with pytest.raises(PiperUnavailable) as err:
        PiperSynthesizer(_voice(tmp_path, change, value))
    assert f"its config x.onnx.json is unusable ({why}" in str(err.value), err.value


def test_piper_is_chosen_by_its_setting():
    synthesizer, choice = open_engine("voice", "piper", settings_mod.Settings(synthesizer="piper"))
    assert synthesizer.name.startswith("piper:") and synthesizer.notice == choice.notice == ""
    assert choice.reason == "Piper's voice Joe, chosen by the synthesizer setting 'piper'"


def test_a_broken_piper_falls_back_to_the_espeak_voice_saying_why_once(tmp_path, monkeypatch, guide_home):
    (tmp_path / "voice.onnx").write_bytes(b"\0" * 100)
    monkeypatch.setenv(ENV_VOICE, str(tmp_path / "voice.onnx"))
    synth = open_synthesizer(settings_mod.Settings(synthesizer="piper"), cache_dir=tmp_path / "cache")
    try:
        assert synth.name == "pyttsx3"
        assert synth.notice.startswith("The Piper voice could not be loaded") and synth.notice.count(".") >= 1
        assert "could not be loaded" in synth.reason and "espeak-ng voice" in synth.reason
    finally:
        synth.close()


@pytest.mark.parametrize("name, engine", [("pyttsx3", "pyttsx3"), ("espeak-ng", "espeak-ng")])
def test_the_old_voice_is_still_chosen_by_the_setting(name, engine):
    synthesizer, choice = open_engine("voice", name, settings_mod.Settings(synthesizer=name))
    try:
        assert synthesizer.name == engine and synthesizer.notice == choice.notice == ""
        assert name in choice.reason
    finally:
        synthesizer.close()


@pytest.mark.parametrize("version, synthesizer, voice, expected", [
    (1, "pyttsx3", None, None),  # version 1's default, written out with every save: the default now
    (1, "pyttsx3", "en-gb", "pyttsx3"),  # an espeak-ng voice chosen for it
    (2, "piper", None, "piper"),  # the default then, or Joe chosen by ear: the same file, so it stays Joe
    (2, "piper", "x", "piper"), (2, "pyttsx3", None, "pyttsx3"),
    (3, None, None, None), (3, "piper", None, "piper"), (3, "kokoro", "af_bella", "kokoro"),
])
def test_only_a_settings_file_that_chose_no_voice_gets_the_default_voice(tmp_path, version, synthesizer, voice,
                                                                          expected):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"format": settings_mod.FORMAT, "version": version,
                                "settings": {"synthesizer": synthesizer, "voice": voice, "rate": 130}}))
    loaded = settings_mod.load(path)
    assert (loaded.synthesizer, loaded.voice, loaded.rate) == (expected, voice, 130)
    assert loaded.speaks_with == (expected or settings_mod.DEFAULT_SYNTHESIZER)


def test_the_default_voice_is_saved_as_none_so_a_later_default_reaches_whoever_did_not_choose(tmp_path):
    path = tmp_path / "settings.json"
    settings_mod.save(settings_mod.Settings(rate=130), path)
    written = json.loads(path.read_text())
    assert written["version"] == 3 and written["settings"]["synthesizer"] is None
    assert settings_mod.load(path).speaks_with == "kokoro"
    settings_mod.save(settings_mod.load(path).with_changes(synthesizer="piper"), path)
    assert json.loads(path.read_text())["settings"]["synthesizer"] == "piper"


def test_doctor_names_the_voice_and_why(guide_home, monkeypatch, tmp_path):
    from voice_guide.commands.doctor import check_voice

    check = check_voice(settings_mod.Settings(synthesizer="piper"))
    assert check.ok and check.detail.startswith("Joe, a US man, Piper's voice ('joe', piper:en_US-joe-medium) speaks (")
    assert "why: Piper's voice Joe, chosen" in check.detail
    monkeypatch.setenv(ENV_VOICE, str(tmp_path / "gone.onnx"))
    check = check_voice(settings_mod.Settings(synthesizer="piper"))
    assert not check.ok and check.detail.startswith("pyttsx3 speaks") and "gone.onnx is missing" in check.detail


def test_at_exit_a_running_render_is_stopped_and_no_new_one_starts():
    """A stop's exit must not wait for a long sentence (13-30 s at load 6) or abort mid-run: the
    exit's wait tells the running onnxruntime runs to stop, and refuses new ones."""
    import onnxruntime
    from piper import PiperConfig, PiperVoice

    model, config = voice_files()
    renders = Renders()
    raw = onnxruntime.InferenceSession(str(model), sess_options=session_options(1), providers=["CPUExecutionProvider"])
    voice = PiperVoice(session=ShrinkingSession(raw, renders), config=PiperConfig.from_dict(json.loads(config.read_text())))
    ids = voice.phonemes_to_ids(voice.phonemize("Rest your face and breathe out slowly. " * 40)[0])
    outcome: list[object] = []

    def render() -> None:
        try:
            outcome.append(voice.phoneme_ids_to_audio(ids))
        except Exception as exc:  # onnxruntime's own error for a run told to stop
            outcome.append(exc)

    worker = threading.Thread(target=render)
    worker.start()
    while not renders._running and worker.is_alive():
        threading.Event().wait(0.005)
    renders.wait(EXIT_WAIT)
    worker.join(EXIT_WAIT)
    assert not worker.is_alive() and isinstance(outcome[0], Exception), outcome
    with pytest.raises(EngineError):
        voice.phoneme_ids_to_audio(ids[:10])

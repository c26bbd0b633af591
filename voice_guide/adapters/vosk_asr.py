"""Vosk (Kaldi) recogniser, used whenever a Vosk model is present.

Decoding is restricted to the command phrases (plus "[unk]" when the model has it, so other speech
goes there instead of onto a command) with KaldiRecognizer's grammar list; alternatives give the
n-best list. Phrases with a word outside the model's vocabulary are dropped with a warning: Vosk would
silently ignore such words and could then hear "start" for "start massage".
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Sequence

from voice_guide.audio import SPEECH_RATE, Audio
from voice_guide.engines import Hypothesis
from voice_guide.errors import EngineError, ModelError
from voice_guide.hearing.frontend import FrontEnd

LOG = logging.getLogger(__name__)

UNKNOWN = "[unk]"
CONFIDENCE_SCALE = 2.0
"""Gap in Vosk's alternative scores over which a guess's weight falls by a factor e."""


def check_model_files(path: Path) -> None:
    """Cheap structural check before Kaldi reads anything: a truncated or foreign folder gets one clear
    sentence instead of a crash inside the engine."""
    if not path.is_dir():
        raise ModelError(f"The Vosk model folder {path} does not exist.")
    mdl = path / "am" / "final.mdl"
    if not mdl.is_file():
        mdl = path / "final.mdl"
    graphs = [path / "graph" / "HCLG.fst", path / "graph" / "HCLr.fst", path / "HCLG.fst", path / "HCLr.fst"]
    conf = [path / "conf" / "mfcc.conf", path / "mfcc.conf"]
    missing = [name for name, ok in (("am/final.mdl", mdl.is_file()), ("graph/HCLG.fst or HCLr.fst", any(g.is_file() for g in graphs)),
                                     ("conf/mfcc.conf", any(c.is_file() for c in conf))) if not ok]
    if missing:
        raise ModelError(f"The Vosk model in {path} is incomplete (missing {', '.join(missing)}).")
    if mdl.stat().st_size < 1024:
        raise ModelError(f"The Vosk model in {path} is corrupt (its acoustic model is truncated).")


def load_model(path: Path):
    """vosk.Model for `path`, or ModelError."""
    try:
        import vosk
    except ImportError as exc:
        raise EngineError("The Vosk recogniser is not installed; run: pip install vosk") from exc
    check_model_files(path)
    vosk.SetLogLevel(-1)
    try:
        return vosk.Model(str(path))
    except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
        raise ModelError(f"The Vosk model in {path} could not be loaded; it may be corrupt or for another Vosk version.") from exc


class VoskRecognizer:
    """Grammar-restricted Vosk decoding of whole utterances into an n-best list."""

    name = "vosk"

    def __init__(self, model_path: str | Path, phrases: Sequence[str], nbest: int = 5,
                 frontend: FrontEnd | None = FrontEnd(trim=False)) -> None:
        import vosk

        self.model_path = Path(model_path)
        self.model = load_model(self.model_path)
        self.notice = ""
        self.nbest = nbest
        self.frontend = frontend
        self.has_unknown = self.model.vosk_model_find_word(UNKNOWN) >= 0
        self.phrases, self.dropped = [], []
        for phrase in dict.fromkeys(" ".join(p.lower().split()) for p in phrases):
            if not phrase:
                continue
            known = all(self.model.vosk_model_find_word(w) >= 0 for w in phrase.split())
            (self.phrases if known else self.dropped).append(phrase)
        if self.dropped:
            LOG.warning("The Vosk model does not know these phrases, left out: %s", ", ".join(self.dropped))
        if not self.phrases:
            raise ModelError(f"The Vosk model in {self.model_path} knows none of the command words; "
                             "it may be for another language.")
        grammar = self.phrases + ([UNKNOWN] if self.has_unknown else [])
        self.grammar = json.dumps(grammar, ensure_ascii=False)
        try:
            self._rec = vosk.KaldiRecognizer(self.model, SPEECH_RATE, self.grammar)
            self._rec.SetMaxAlternatives(nbest)
            self._rec.SetWords(True)
        except Exception as exc:
            raise ModelError(f"The Vosk model in {self.model_path} rejected the command grammar.") from exc

    def decode(self, audio: Audio) -> list[Hypothesis]:
        if self.frontend is not None:
            audio = self.frontend.prepare(audio)
        elif audio.rate != SPEECH_RATE:
            audio = audio.resample(SPEECH_RATE)
        try:
            self._rec.AcceptWaveform(audio.to_pcm16())
            result = json.loads(self._rec.FinalResult())
        except Exception as exc:
            raise EngineError(f"Vosk failed while decoding ({exc}).") from exc
        return hypotheses(result, self.nbest)


def hypotheses(result: dict, nbest: int) -> list[Hypothesis]:
    """Vosk's answer (with its alternatives) as at most `nbest` guesses, best first, their confidences
    calibrated to sum to one; [unk] dropped, and only the empty guess when that is the best."""
    alternatives = result.get("alternatives")
    if alternatives is None:
        alternatives = [{"text": result.get("text", ""), "confidence": 0.0}]
    scored: dict[str, float] = {}
    for alt in alternatives:
        text = " ".join(w for w in str(alt.get("text", "")).split() if w != UNKNOWN)
        score = float(alt.get("confidence", 0.0))
        scored[text] = max(score, scored.get(text, -math.inf))
    if not scored:
        return []
    top = max(scored.values())
    weights = {t: math.exp(max(-50.0, (s - top) / CONFIDENCE_SCALE)) for t, s in scored.items()}
    total = sum(weights.values())
    ranked = sorted(weights, key=lambda t: -weights[t])
    out = [Hypothesis(t, round(weights[t] / total, 4)) for t in ranked[:nbest]]
    if out[0].text == "":
        return [out[0]]
    return [h for h in out if h.text]

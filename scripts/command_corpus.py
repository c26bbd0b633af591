"""Corpora for the command model: manifests read into labelled clips, and their pooled embeddings,
cached under WORK/emb so retraining and re-evaluating need no second pass over the audio.

A manifest is a CSV with file,transcript,speaker,kind (and optionally split = train | heldout). A clip's
label is what the guide's matcher makes of its transcript said perfectly (`eval_commands.expected_command`),
"not a command" for kind not-a-command. Noise is mixed at embedding time (`variant`), deterministically.
"""

from __future__ import annotations

import csv
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from voice_guide import paths  # noqa: E402
from voice_guide.audio import Audio, resample  # noqa: E402
from voice_guide.hearing.audio_files import read_utterance  # noqa: E402
from voice_guide.hearing.listen import FRAME_SECONDS, frame_levels  # noqa: E402
from voice_guide.understanding.command_model import command_key, pool  # noqa: E402
from eval_commands import expected_command  # noqa: E402
from make_corpus import NOISES, mix_at_snr  # noqa: E402

WORK = Path(os.environ.get("VOICE_GUIDE_TRAINING_DIR") or paths.cache_dir() / "training")
"""The training scripts' own folder (corpora they make, Kokoro's voice files, the embedding cache): in
the guide's cache folder, or VOICE_GUIDE_TRAINING_DIR; a few GB, safe to delete."""
CACHE = WORK / "emb"
VALIDATION = ("af_nicole", "am_echo", "bf_alice", "bm_george", "en-gb-x-gbcwmd+Rob", "en-us-nyc+f2", "en-029+Gene")
"""Training voices a second head is trained without (`train_commands.py --validation`), so that
choices (`fusion.Rule`'s bars, `scripts/choose_fusion_bars.py`) are made on voices it never heard, and
never on the held-out voices the figures are reported for: Kokoro US and UK women and men, and three
espeak-ng accents."""


VALIDATION_PARTS = {name.split("+")[-1] for name in VALIDATION}
"""The Kokoro voices and espeak-ng variants of VALIDATION: any speaker made with one is theirs."""


def validation_voice(speaker: str) -> bool:
    """A VALIDATION voice, a Kokoro blend with one ("af_nicole+af_sky@0.5") or an espeak-ng voice of
    one's variant in another accent ("en-us+Rob", which `corpus_voices.fresh_voice` makes)."""
    return any(part in VALIDATION_PARTS for part in speaker.split("@")[0].split("+"))


@dataclass(frozen=True)
class Row:
    path: Path
    transcript: str
    speaker: str
    kind: str
    label: str
    split: str
    condition: str


def read_rows(manifest: Path, vocab) -> list[Row]:
    with open(manifest, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        label = None if r.get("kind") == "not-a-command" else expected_command(r["transcript"], vocab)
        out.append(Row(manifest.parent / r["file"], r["transcript"], r.get("speaker", ""), r.get("kind", ""),
                       command_key(label), r.get("split", ""), r.get("condition", "")))
    return out


def microphone(audio: Audio, seed: int) -> Audio:
    """The clip as an everyday device records it: a phone's or laptop's band (thin bass, dull top),
    the steady hiss a real recording has where a synthetic one is digital silence, and a level
    anywhere from quiet to a little clipped."""
    from scipy.signal import butter, lfilter, sosfilt

    rng = np.random.default_rng(seed)
    band = butter(2, [rng.uniform(80, 300), rng.uniform(3400, 7500)], btype="bandpass", fs=audio.rate, output="sos")
    x = sosfilt(band, audio.samples).astype(np.float32)
    hiss = rng.standard_normal(len(x))
    if rng.random() < 0.5:  # pink-ish rather than white
        hiss = lfilter([1.0], [1.0, -0.95], hiss)
    x = mix_at_snr(x, hiss.astype(np.float32), rng.uniform(15, 40))
    peak = float(np.max(np.abs(x))) or 1.0
    return Audio(np.clip(x * 10 ** (rng.uniform(-30, 3) / 20) / peak, -1, 1).astype(np.float32), audio.rate)


CUT_ROOM = (0.0, 0.5)
"""Seconds of the clip kept before its first and after its last sound, drawn in this range: the guide's
endpointer keeps about 0.2 s each side (`hearing.listen.PREROLL`, `TAIL`), a one-second recording
anything from none to half a second."""
CUT_INTO = (0.2, 0.04)
"""How often (each end on its own) and at most how many seconds of the word's own start or end are lost:
a recording started or stopped a little late."""
SOUNDING = (35.0, 10.0, 6.0)
"""A frame sounds when it is within the first figure's decibels of the loudest and the second's above
the quietest tenth (the room the corpus mixed in, 0-30 dB under the words), or, in a loud room, within
the third's of the loudest."""


def cut(audio: Audio, seed: int) -> Audio:
    """The clip cut close around its sound, as the guide's endpointer or a one-second recording holds a
    short word, then recorded as an everyday device does (`microphone`). The synthetic clips have half
    a second or more of quiet after their words: a head trained on them alone heard 69% of speech-dev's
    real commands, cut tight as they are, and 86% with quiet put around them (0.25 s before, up to 2 s)."""
    rng = np.random.default_rng(seed)
    frame = round(FRAME_SECONDS * audio.rate)
    levels = frame_levels(audio.samples, frame)
    if len(levels) == 0:
        return microphone(audio, seed)
    peak, floor = levels.max(), np.percentile(levels, 10)
    below, over_floor, loud = SOUNDING
    sounding = np.flatnonzero(levels >= max(peak - below, min(floor + over_floor, peak - loud)))
    first, last = sounding[0] * frame, (sounding[-1] + 1) * frame
    before, after = (round(rng.uniform(*CUT_ROOM) * audio.rate) for _ in range(2))
    share, most = CUT_INTO
    if rng.random() < share:
        before = -round(rng.uniform(0, most) * audio.rate)
    if rng.random() < share:
        after = -round(rng.uniform(0, most) * audio.rate)
    start, end = max(0, first - before), min(len(audio.samples), last + after)
    return microphone(Audio(audio.samples[start:max(end, start + frame)], audio.rate), seed)


def noisy(audio: Audio, variant: str, seed: int) -> Audio:
    """variant "clean", "mic" (`microphone`), "cut" (`cut`), "NOISE@SNR" (fan@12) or "speed@F": played F times
    faster, pitch and pace together (speed@1.1 sounds like a smaller speaker talking faster; the usual
    speed perturbation)."""
    if variant == "clean":
        return audio
    if variant == "mic":
        return microphone(audio, seed)
    if variant == "cut":
        return cut(audio, seed)
    noise, snr = variant.split("@")
    if noise == "speed":
        return Audio(resample(audio.samples, round(audio.rate * float(snr)), audio.rate), audio.rate)
    x = audio.samples
    return Audio(mix_at_snr(x, NOISES[noise](len(x), audio.rate, seed), float(snr)), audio.rate)


def embed_rows(rows: list[Row], embedder, variant: str = "clean", tag: str = "") -> np.ndarray:
    """Pooled embeddings of every row (cached by the files, the embedder and the variant)."""
    key = hashlib.sha256(("\n".join(str(r.path) for r in rows) + embedder.name + variant + tag).encode()).hexdigest()[:20]
    cache = CACHE / f"{embedder.name}-{variant}-{key}.npy"
    if cache.exists():
        return np.load(cache)
    out = []
    for i, r in enumerate(rows):
        audio = noisy(read_utterance(r.path), variant, 1000 + i)
        out.append(pool(embedder.embed(audio)))
    X = np.stack(out).astype(np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(cache, X)
    return X


def open_embedder(name: str, threads: int = 2):
    """"whisper": tiny.en's encoder, as the guide uses it (`command_model.RecognizerEmbedding`);
    "speech": Google's speech_embedding, the alternative it was measured against."""
    if name == "whisper":
        from voice_guide.adapters.whisper_asr import WhisperRecognizer
        from voice_guide.understanding.command_model import RecognizerEmbedding
        from voice_guide.understanding.whisper_models import encoder_name, packaged_tiny

        return RecognizerEmbedding(WhisperRecognizer(packaged_tiny(), encoder=encoder_name("tiny.en"), threads=threads))
    from voice_guide.adapters.speech_embedding import SpeechEmbedding

    return SpeechEmbedding()


_WORKER: dict = {}


def _open_worker(name: str) -> None:
    _WORKER["embedder"] = open_embedder(name, threads=1)


def _embed_part(task: tuple[list[Row], str]) -> None:
    rows, variant = task
    embed_rows(rows, _WORKER["embedder"], variant)


def embed_in_parallel(parts: list[tuple[list[Row], str]], name: str, jobs: int) -> None:
    """Fill the cache for each (rows, variant) in `jobs` processes of one thread each, largest first.
    The encoder gains little from a second thread of its own (on this machine, 39 ms of CPU a clip
    on one thread, 51 ms on two, for the same wall time), so separate processes nearly halve the
    time of the embedding pass. Spawned, not forked: see `corpus_render.render_all`."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    tasks = sorted(((rows, variant) for rows, variant in parts if rows), key=lambda t: -len(t[0]))
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=spawn, initializer=_open_worker, initargs=(name,)) as pool:
        list(pool.map(_embed_part, tasks))

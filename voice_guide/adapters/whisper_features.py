"""Whisper's input: the log-mel spectrogram and the token ids around the text, in numpy and the
`tokenizers` library alone. faster-whisper computes the same (tests compare the two), but importing
any part of it loads its whole package, PyAV's codecs included: about 20 MB more resident memory for
a guide that only ever needs these few lines.
"""

from __future__ import annotations

import numpy as np

N_FFT = 400
"""Whisper's STFT: 25 ms Hann windows at 16 kHz, every HOP samples."""
HOP = 160
"""Samples per mel frame at 16 kHz (Whisper's fixed hop)."""
RATE = 16000


def mel_filters(n_mels: int, rate: int = RATE, n_fft: int = N_FFT) -> np.ndarray:
    """Slaney-style mel filterbank (librosa's default, which Whisper was trained with): linear below
    1 kHz, logarithmic above, each band scaled to about constant energy."""
    fft_freqs = np.fft.rfftfreq(n=n_fft, d=1.0 / rate)
    mels = np.linspace(0.0, 45.245640471924965, n_mels + 2)  # 0 Hz to 8 kHz in Slaney mels
    step = 200.0 / 3
    freqs = step * mels
    log_from = 1000.0 / step
    log_part = mels >= log_from
    freqs[log_part] = 1000.0 * np.exp(np.log(6.4) / 27.0 * (mels[log_part] - log_from))
    widths = np.diff(freqs)
    ramps = freqs.reshape(-1, 1) - fft_freqs.reshape(1, -1)
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (freqs[2 : n_mels + 2] - freqs[:n_mels]))[:, None]
    return weights.astype(np.float32)


def log_mel(samples: np.ndarray, filters: np.ndarray) -> np.ndarray:
    """Whisper's normalised log-mel spectrogram (mels x frames) of 16 kHz samples: centred frames
    (reflect padding), power spectrum, log10 floored 8 decades under its peak, scaled near [-1, 1]."""
    x = np.pad(np.asarray(samples, dtype=np.float32), N_FFT // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP]
    window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)
    power = np.abs(np.fft.rfft(frames * window, axis=-1).astype(np.complex64)) ** 2
    spec = np.log10(np.maximum(filters @ power[:-1].T, 1e-10))
    spec = np.maximum(spec, spec.max() - 8.0)
    return ((spec + 4.0) / 4.0).astype(np.float32)


class Tokens:
    """The token ids Whisper's decoder needs, from the model folder's tokenizer.json."""

    def __init__(self, tokenizer, multilingual: bool) -> None:
        self._tok = tokenizer
        special = ["<|startoftranscript|>"] + (["<|en|>", "<|transcribe|>"] if multilingual else [])
        self.sot_sequence = [self._id(t) for t in special]
        self.no_timestamps = self._id("<|notimestamps|>")
        self.eot = self._id("<|endoftext|>")

    def _id(self, token: str) -> int:
        found = self._tok.token_to_id(token)
        if found is None:
            raise ValueError(f"the tokenizer has no {token}")
        return int(found)

    def encode(self, text: str) -> list[int]:
        return list(self._tok.encode(text, add_special_tokens=False).ids)

    def decode(self, ids: list[int]) -> str:
        return self._tok.decode(ids)

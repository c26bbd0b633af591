"""The guide's own voice in the microphone, taken out before barge-in listens. Pure (numpy).

What the microphone hears of the speaker is, to a first approximation, a delayed and scaled copy of
what the guide plays, and the player knows what it plays (the reference). While nobody speaks over it,
`EchoEstimate` finds the delay (cross-correlation over the last half second) and the gain (least
squares) and trusts them only when the match is close; `residual` is then the microphone minus that
copy, in which a user's voice stands out even when it is no louder than the guide. Around that delay a
short filter (a millisecond either side, fitted by least squares) follows what a sound server's
resampling and the speaker do to the copy, which a single delay and gain cannot; room reverberation is
not modelled: what is left of it is measured by `listen.BargeIn` as before. The filter is kept from
one output stream to the next, and from one session to the next (`seed`, `learnt`), and moved to
each new stream's delay within its first tenths of a second.
"""

from __future__ import annotations

import numpy as np

from voice_guide.audio import SPEECH_RATE
from voice_guide.engines import EchoPath


SPREAD = 0.001
"""Seconds either side of the learnt delay that the filter spans."""
QUICK = 0.15
"""Seconds of a new output stream's sound after which the last stream's filter, moved to the delay
found on them, may be trusted (a device starts each stream with a delay of its own, 40-300 samples
apart, while what the speaker and the sound server do to the sound stays): a "stop" said in a
sound's first half second was otherwise judged on the raw microphone, where it is not heard. Not
0.1 (the first block): a sentence's first tenth, often a fricative onset, is where the filter
learnt on the sounds before fits least (18 dB offline, 31-38 dB on the next tenth), and on the card
3 stops in 10 said in the first 0.8 s paused the guide where 6 did with 0.15."""
QUICK_MATCH = 0.9
"""Normalised correlation of that moved filter's copy with the microphone from which it is trusted:
higher than a whole `span` needs, the stretch being shorter."""
PHASES = 16
"""Steps per sample in which the last stream's filter is moved: each output stream lies a little
otherwise between two samples (the sound server's resampling starts it anew), and moved by whole
samples only the filter took the echo down 13-15 dB on the card, in 16ths 39-42 dB (15-20 dB and
47-60 dB offline)."""
FRACTION = 8
"""Weights either side of the centre of the filter that delays by a part of a sample."""
HISTORY = 1.5
"""Seconds of microphone and reference kept: as long as a voice taken over the guide may be
(`BargeIn`'s `max_len`), so that a stop said at a sound's very start, before its echo could be
learnt, is still there to be looked back on when it is (a second in, offline)."""
KEEP_DB = 10.0
"""Decibels by which a filter learnt on a whole `span` may take the echo down less than the moved one
did, and still replace it: less than that, it was learnt with a voice over the echo (a stop 0.4 s
into a sentence: 17 dB where the moved one took 37 dB, offline), and taking it in hid that voice."""

REFIT_DB = 3.0
"""Decibels by which a filter learnt on the last `span` must take the echo down more than the one
learnt before does, on that same stretch, to replace it. On one output stream the delay stays, and
a stretch the last filter no longer fits is one the device's timing moved on (tens of decibels
apart); where it does fit, what a new one gains is what it fitted of a voice over the echo: a stop
said in a sentence's first half second was learnt into the filter (which took the echo down 3-6 dB
where the last one took 26-60 dB), and hidden."""

SOUNDING = 0.5
"""Share of a `span` in which the guide must sound for a filter to be learnt on it: learnt on a
title's last tenth of a second and the silence after it, a filter took that stretch down 75 dB and
the next sentence's echo 17 dB (and a stop said in it was not heard)."""


class EchoEstimate:
    """Delay, gain and the short filter of the echo, learnt while nobody speaks over the guide."""

    def __init__(self, rate: int = SPEECH_RATE, max_delay: float = 0.4, span: float = 0.5,
                 min_match: float = 0.7, min_rms: float = 1e-3) -> None:
        self.rate = rate
        self.max_lag = round(max_delay * rate)
        self.span = round(span * rate)
        self.min_match = min_match
        """Normalised correlation below which no estimate is trusted (the echo is not a copy)."""
        self.min_rms = min_rms
        self.lag: int | None = None
        """Samples by which the echo trails the reference; None while unknown."""
        self.gain = 0.0
        self.depth = 0.0
        """Decibels by which the filter took the echo down on the stretch it was learnt on (0 while unknown)."""
        self.spread = round(SPREAD * rate)
        self._lags = np.zeros(0, dtype=int)
        self._taps = np.zeros(0)
        """The filter: delays (samples) and their weights; empty while unknown."""
        self._fresh = 0
        """Samples heard since the last `forget`."""
        self._kept = False
        """The filter is the last sound's on this stream, not yet checked on this one (`next_sound`)."""
        self.quick = round(QUICK * rate)
        self._prior: tuple[np.ndarray, np.ndarray] | None = None
        """The last stream's filter (delays relative to its main one, and weights), to move to the
        next stream's delay; None before any was learnt."""
        self.moved = False
        """The filter is the last stream's, moved to this one's delay (trusted before a whole `span`),
        until one is learnt on a whole `span` of this sound."""
        self.moves = 0
        """How often a filter was moved to where a sound's echo is (`_move`): what was read of the
        echo left before says little of what is left now."""
        self.refits = 0
        """How often a filter learnt on this stream was replaced by one that takes the echo out
        better (`REFIT_DB`): what was left of the echo with the last one says little of the new one."""
        self.learnt: EchoPath | None = None
        """The filter last learnt on a whole `span` of a sound, to keep for this speaker and microphone."""
        keep = max(self.span + self.max_lag, round(HISTORY * rate))
        self._mic = np.zeros(keep, dtype=np.float32)
        self._ref = np.zeros(keep, dtype=np.float32)

    def forget(self) -> None:
        """A new output stream: it may come with another delay (the filter's shape is kept, to be
        moved to it)."""
        if self.lag is not None:
            self._prior = (self._lags - self.lag, self._taps)
        self.moved = self._kept = False
        self.lag, self.gain, self.depth = None, 0.0, 0.0
        self._lags, self._taps = np.zeros(0, dtype=int), np.zeros(0)
        self._fresh = 0
        self.quiet()

    def next_sound(self) -> None:
        """The next sound on the same stream: the filter is trusted from its first sample (a stop
        said in a sound's first 0.15 s was heard 15 times in 20 where a filter moved only after them
        heard 10), and once `QUICK` of it is heard it is moved to where this sound's echo is, as a
        new stream's is (`forget`), if that takes the echo of that stretch down more than the kept
        one does; then it is learnt again on a whole `span` as on any sound. Kept and moved only
        when it had become `KEEP_DB` worse, a filter a part of a sample off left enough of the
        guide's voice in a stop said 0.15-0.8 s in that it was written "stop" but not decided on."""
        self._fresh = 0
        if self.lag is not None:
            self._prior = (self._lags - self.lag, self._taps)
            self.moved = self._kept = True

    def seed(self, path: EchoPath) -> None:
        """Start from the filter kept for this speaker and microphone (`learnt` in an earlier session),
        moved to the first sound's delay as the last stream's would be; a path kept at another sample
        rate is not this one's."""
        if path.rate == self.rate and path.offsets:
            self._prior = (np.asarray(path.offsets, dtype=int), np.asarray(path.taps, dtype=np.float64))

    def quiet(self) -> None:
        """The guide fell silent (and was not followed meanwhile): the histories start again from
        silence, the estimate is kept for its next sound on the same stream (`next_sound`)."""
        self._mic[:] = 0.0
        self._ref[:] = 0.0

    @property
    def settled(self) -> bool:
        """An estimate is trusted, learnt on a whole `span` of this sound (a shorter stretch can
        match well at a wrong delay), or the last stream's moved to this one's delay."""
        return self.lag is not None and (self._fresh >= self.span or self.moved)

    def residual(self, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        """`mic` less the echo of `ref` (both the same length, `ref` aligned as the player passes it);
        `mic` unchanged until the estimate is settled. The histories move on by the block either way."""
        n = len(mic)
        self._fresh += n
        self._mic = np.concatenate([self._mic, mic])[-len(self._mic) :]
        self._ref = np.concatenate([self._ref, ref])[-len(self._ref) :]
        if not self.settled or n > len(self._ref) - self.max_lag:
            return mic
        return mic - self._echo(n).astype(np.float32)

    def explained(self, n: int) -> float:
        """The share (0 to 1) of the energy of the last `n` microphone samples (as many as the
        histories hold) that the estimate accounts for: near 1 they were the guide's echo alone."""
        if self.lag is None:
            return 0.0
        n = min(n, len(self._ref) - int(self._lags.max()))
        mic = self._mic[-n:].astype(np.float64)
        return 1.0 - float(np.sum((mic - self._echo(n)) ** 2)) / max(float(mic @ mic), 1e-12)

    def _echo(self, n: int, before: int = 0) -> np.ndarray:
        """The filter's copy of `n` microphone samples ending `before` samples from the last, from
        the reference history."""
        m = len(self._ref) - before
        return sum(w * self._ref[m - lag - n : m - lag].astype(np.float64)
                   for lag, w in zip(self._lags, self._taps))

    def heard(self, n: int, before: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Up to `n` samples of this sound ending `before` samples from the last: the microphone, the
        reference as it was handed in, and the microphone less the echo as now estimated (what was
        heard before the estimate settled, cleaned after)."""
        n = max(0, min(n, self._fresh - before, len(self._ref) - int(self._lags.max()) - before))
        if self.lag is None or n == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.float32), np.zeros(0, np.float32)
        end = len(self._mic) - before
        mic = self._mic[end - n : end]
        return mic, self._ref[end - n : end], (mic - self._echo(n, before)).astype(np.float32)

    def learn(self) -> None:
        """Estimate delay and gain from the last `span` of both histories (call while nobody speaks
        over the guide), then the filter around that delay; keeps the old estimate when this stretch
        does not match well enough, or (`KEEP_DB`) is far worse than the moved one, or (`REFIT_DB`)
        takes the echo out of it no better than the one learnt before. Before that, the
        last stream's filter is moved to this one's delay, once `QUICK` of it matches."""
        if self._prior is not None and self.lag is None and self._fresh >= self.quick:
            self._move(*self._prior)  # after a whole span too, while a voice over the echo kept it from matching
        if self._kept and self._fresh >= self.quick and self._sounding(self.quick):
            kept, moves = self._depth(self.quick), self.moves
            if self._move(*self._prior, better=kept) is not None:  # else tried again, the kept one used meanwhile
                self._kept = False
                self.depth = self.depth if self.moves != moves else kept  # on this sound, as a moved one's
        if self._fresh < self.span and (self._prior is not None or self.moved):
            return
        if not self._sounding(self.span):
            return
        best = self._best()
        if best is None or best[1] < self.min_match:
            return
        kept = self.lag, self.gain, self._lags, self._taps
        held = self._depth(self.span) if self.lag is not None and not self.moved else None
        k, _, gain = best
        self.lag, self.gain = self.max_lag - k, gain
        self._lags = np.arange(max(0, self.lag - self.spread), min(self.max_lag, self.lag + self.spread) + 1)
        self._fit(self.span)
        depth = self._depth(self.span)
        if (self.moved and depth < self.depth - KEEP_DB) or (held is not None and depth < held + REFIT_DB):
            self.lag, self.gain, self._lags, self._taps = kept
            return
        self.refits += held is not None
        self.moved = self._kept = False
        self.depth = depth
        self.learnt = EchoPath(self.rate, tuple(int(d) for d in self._lags - self.lag),
                               tuple(float(w) for w in self._taps))

    def _sounding(self, n: int) -> bool:
        """The guide sounds (its reference over `min_rms`) in at least `SOUNDING` of the last `n`
        samples' 20 ms frames."""
        frame = round(0.02 * self.rate)
        ref = self._ref[len(self._ref) - n // frame * frame :].astype(np.float64).reshape(-1, frame)
        return float(np.mean(np.sqrt(np.mean(ref**2, axis=1)) >= self.min_rms)) >= SOUNDING

    def _depth(self, n: int) -> float:
        """Decibels by which the filter takes the echo down on the last `n` samples."""
        return -10.0 * np.log10(max(1.0 - self.explained(n), 1e-9))

    def _fit(self, n: int) -> None:
        """The filter's weights at its delays (`_lags`), by least squares on the last `n` samples."""
        ref = self._ref.astype(np.float64)
        mic = self._mic[-n:].astype(np.float64)
        starts = len(ref) - n - self._lags  # where each delay's stretch of the reference history starts
        gram = gram_matrix(ref, starts, n)
        gram[np.diag_indices_from(gram)] += 1e-9 * np.trace(gram) + 1e-12  # a silent stretch stays solvable
        self._taps = np.linalg.solve(gram, np.array([np.sum(ref[s : s + n] * mic) for s in starts]))

    def _move(self, offsets: np.ndarray, taps: np.ndarray, better: float = -np.inf) -> float | None:
        """Find the delay, to a `PHASES`th of a sample, at which the filter (`offsets` from its main
        delay, `taps`) copies the last `quick` microphone samples best, and take it there when the
        match is `QUICK_MATCH` or more and it takes their echo down by more than `better` dB (the
        filter in use does, on the same stretch). Its depth on them is trusted as it is: a delay
        and a gain are all that was fitted. Its depth there, or None when nothing matched."""
        spread = int(np.abs(offsets).max())
        kernel = np.zeros(2 * spread + 1)
        kernel[offsets + spread] = taps
        tail = self.quick + self.max_lag  # the stretch matched, and the reference it needs
        ref = self._ref[len(self._ref) - tail - 2 * spread :].astype(np.float64)
        found = None
        for phase in np.arange(-(PHASES // 2), PHASES // 2 + 1) / PHASES:
            shifted = np.convolve(kernel, fractional_delay(phase))[FRACTION : FRACTION + len(kernel)]
            shaped = np.convolve(ref, shifted)[spread : spread + len(ref)]  # shaped[t] = sum of w * ref[t - offset]
            best = self._match(shaped[len(shaped) - tail :], self.quick)
            if best is not None and (found is None or best[1] > found[0][1]):
                found = best, shifted
        if found is None:
            return None
        (k, match, scale), shifted = found
        lag = self.max_lag - k
        if match < QUICK_MATCH or lag - spread < 0 or lag + spread > self.max_lag:
            return None
        depth = -10.0 * np.log10(max(1.0 - match**2, 1e-9))  # of the copy scaled by least squares
        if depth <= better:
            return depth
        self.lag, self._lags, self._taps = lag, lag + np.arange(-spread, spread + 1), shifted * scale
        self.gain, self.moved = float(self._taps.sum()), True
        self.depth = self._depth(self.quick)
        self.moves += 1
        return depth

    def _best(self) -> tuple[int, float, float] | None:
        """The best-matching delay of the reference history for the last `span` of the microphone
        (`_match`)."""
        return self._match(self._ref[len(self._ref) - self.span - self.max_lag :].astype(np.float64), self.span)

    def _match(self, window: np.ndarray, n: int) -> tuple[int, float, float] | None:
        """(offset into `window`, normalised match, gain) of the stretch of `window` that best matches
        the last `n` microphone samples; None when either is too quiet to tell."""
        mic = self._mic[-n:].astype(np.float64)
        if np.sqrt(np.mean(mic**2)) < self.min_rms or np.sqrt(np.mean(window[-n:] ** 2)) < self.min_rms:
            return None
        corr = correlate(window, mic)
        running = np.concatenate([[0.0], np.cumsum(window**2)])
        energy = running[n:] - running[:-n]  # energy[k] = window[k : k + n] . itself
        match = corr / np.sqrt(np.maximum(energy, 1e-12) * float(mic @ mic))
        k = int(np.argmax(match))
        return k, float(match[k]), float(corr[k] / max(energy[k], 1e-12))


def fractional_delay(delay: float) -> np.ndarray:
    """A filter of 2 * `FRACTION` + 1 weights (a Hann-windowed sinc) that delays a sound by `delay`
    of a sample."""
    k = np.arange(-FRACTION, FRACTION + 1)
    h = np.sinc(k - delay) * np.hanning(2 * FRACTION + 3)[1:-1]
    return h / h.sum()


def gram_matrix(window: np.ndarray, starts: np.ndarray, span: int) -> np.ndarray:
    """g[i, j] = window[starts[i] :][: span] . window[starts[j] :][: span] for contiguous `starts`, by
    running sums of lagged products: elementwise numpy, never a BLAS product (whose worker threads,
    on a busy machine, made one filter cost a tenth of a second)."""
    first, n = int(starts.min()), len(starts)
    seg = window[first : first + n - 1 + span]
    at = np.empty(n, dtype=int)
    at[starts - first] = np.arange(n)  # which row starts at each offset from `first`
    gram = np.empty((n, n))
    for d in range(n):
        running = np.concatenate([[0.0], np.cumsum(seg[: len(seg) - d] * seg[d:])])
        a = np.arange(n - d)
        gram[at[a], at[a + d]] = gram[at[a + d], at[a]] = running[a + span] - running[a]
    return gram


def correlate(window: np.ndarray, part: np.ndarray) -> np.ndarray:
    """corr[k] = window[k : k + len(part)] . part for every k where `part` fits, through the FFT (numpy
    only: scipy's signal module would cost the listening guide 68 MB)."""
    n = len(window) + len(part) - 1
    size = 1 << (n - 1).bit_length()
    full = np.fft.irfft(np.fft.rfft(window, size) * np.fft.rfft(part[::-1], size), size)
    return full[len(part) - 1 : len(window)]

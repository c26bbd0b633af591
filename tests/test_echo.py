"""Taking the guide's own voice out of the microphone: a delayed, scaled copy of what it plays."""

from __future__ import annotations

import numpy as np
import pytest

from voice_guide.audio import SPEECH_RATE
from voice_guide.hearing.echo import EchoEstimate, correlate
from voice_guide.testing import espeak_speech


def _echoed(ref: np.ndarray, delay: float, gain: float, seed: int = 1) -> np.ndarray:
    d = round(delay * SPEECH_RATE)
    mic = np.concatenate([np.zeros(d, np.float32), ref[: len(ref) - d]]) * np.float32(gain)
    return mic + np.random.default_rng(seed).normal(0, 1e-4, len(mic)).astype(np.float32)


def _run(est: EchoEstimate, mic: np.ndarray, ref: np.ndarray, block: int = 1600) -> np.ndarray:
    out = []
    for i in range(0, len(mic) - block + 1, block):
        out.append(est.residual(mic[i : i + block], ref[i : i + block]))
        est.learn()
    return np.concatenate(out)



def _on_the_next_sound(ref: np.ndarray, mic: np.ndarray, one_stream: bool = False) -> EchoEstimate:
    """An estimate that learnt the echo on one sound (`ref` heard as `mic`), on the next one's stream
    (`one_stream`: on the same stream, the guide silent since)."""
    est = EchoEstimate()
    _run(est, mic, ref)
    if one_stream:
        est.quiet()
        est.next_sound()
    else:
        est.forget()
        est.quiet()
    return est

def test_the_delay_and_gain_are_learnt_and_the_echo_taken_out():
    ref = espeak_speech("Sit back and let your shoulders drop, and breathe slowly.", noise_floor=-60).samples
    mic = _echoed(ref, delay=0.12, gain=0.4)
    est = EchoEstimate()
    residual = _run(est, mic, ref)
    assert est.lag == round(0.12 * SPEECH_RATE) and abs(est.gain - 0.4) < 0.02
    late = slice(len(residual) // 2, len(residual))
    assert np.sqrt(np.mean(residual[late] ** 2)) < 0.05 * np.sqrt(np.mean(mic[late] ** 2))  # > 26 dB less


def test_no_estimate_is_trusted_when_the_microphone_is_not_the_echo():
    ref = espeak_speech("Sit back and let your shoulders drop.", noise_floor=-60).samples
    other = espeak_speech("The kettle has boiled, shall we have lunch now?", "en-gb", noise_floor=-60).samples
    mic = np.resize(other, len(ref))
    est = EchoEstimate()
    residual = _run(est, mic, ref)
    assert est.lag is None and np.array_equal(residual, mic[: len(residual)])


def test_forgetting_starts_again():
    ref = espeak_speech("Let your forehead soften.", noise_floor=-60).samples
    est = EchoEstimate()
    _run(est, _echoed(ref, 0.05, 0.5), ref)
    assert est.lag is not None
    est.forget()
    assert est.lag is None and est.gain == 0.0


def test_an_echo_between_two_samples_is_taken_out_too():
    """A sound server's resampling leaves the echo between two samples (and filtered): no single
    delay and gain matches it, the short filter around the delay does (> 30 dB less)."""
    ref = espeak_speech("Sit back and let your shoulders drop, and breathe slowly.", noise_floor=-60).samples
    whole = _echoed(ref, delay=0.12, gain=0.4)
    mic = 0.5 * whole + 0.5 * np.concatenate([np.zeros(1, np.float32), whole[:-1]])  # half a sample later
    est = EchoEstimate()
    residual = _run(est, mic, ref)
    late = slice(len(residual) // 2, len(residual))
    assert np.sqrt(np.mean(residual[late] ** 2)) < 0.03 * np.sqrt(np.mean(mic[late] ** 2))


def test_a_new_stream_s_echo_is_taken_out_from_its_first_tenths_with_the_last_stream_s_filter():
    """Each output stream reaches the microphone with a delay of its own, while what the sound server
    does to the sound (here half a sample's shift) stays: the last stream's filter, moved to the new
    delay found on the first `QUICK` seconds, takes the echo out long before a whole `span` is heard."""
    def shifted(whole):
        return 0.5 * whole + 0.5 * np.concatenate([np.zeros(1, np.float32), whole[:-1]])

    first = espeak_speech("Sit back and let your shoulders drop, and breathe slowly.", noise_floor=-60).samples
    second = espeak_speech("Now let your forehead soften and your jaw go loose.", noise_floor=-60).samples
    est = _on_the_next_sound(first, shifted(_echoed(first, 0.12, 0.4)))
    mic = shifted(_echoed(second, 0.135, 0.4))
    residual = _run(est, mic, second)
    assert est.settled and abs(est.lag - round(0.135 * SPEECH_RATE)) <= 1  # the filter spans a part of a sample either way
    early = slice(round(0.3 * SPEECH_RATE), round(0.5 * SPEECH_RATE))  # before a whole span of it
    assert np.sqrt(np.mean(residual[early] ** 2)) < 0.05 * np.sqrt(np.mean(mic[early] ** 2))


def test_a_moved_filter_is_not_trusted_on_what_is_not_the_echo():
    ref = espeak_speech("Sit back and let your shoulders drop.", noise_floor=-60).samples
    other = espeak_speech("The kettle has boiled, shall we have lunch now?", "en-gb", noise_floor=-60).samples
    est = _on_the_next_sound(ref, _echoed(ref, 0.05, 0.5))
    mic = np.resize(other, 6400)
    residual = _run(est, mic, ref[:6400])
    assert not est.settled and np.array_equal(residual, mic)


def test_correlation_is_scipys_valid_correlation():
    signal = pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(4)
    window, part = rng.standard_normal(1200), rng.standard_normal(500)
    assert np.allclose(correlate(window, part), signal.fftconvolve(window, part[::-1], mode="valid"))


def test_the_filter_s_gram_matrix_is_the_plain_product_of_the_delayed_stretches():
    """The running-sum Gram matrix (no BLAS product) equals the product of the reference's delayed
    stretches, row for row, whichever order the delays come in."""
    from voice_guide.hearing.echo import gram_matrix

    window = np.random.default_rng(4).standard_normal(3000)
    span, starts = 2000, np.arange(40, 7, -1)
    stretches = np.stack([window[s : s + span] for s in starts])
    np.testing.assert_allclose(gram_matrix(window, starts, span), stretches @ stretches.T, rtol=1e-10, atol=1e-9)


def _later(whole: np.ndarray, part: float) -> np.ndarray:
    """`whole` `part` of a sample later (as a sound server's resampling leaves a stream)."""
    return ((1 - part) * whole + part * np.concatenate([np.zeros(1, np.float32), whole[:-1]])).astype(np.float32)


def test_a_kept_path_takes_a_session_s_first_echo_out_from_its_first_tenths():
    """The filter kept from an earlier session with this speaker and microphone is moved to the first
    sound's delay, to a 16th of a sample (this stream lies a little otherwise between two samples):
    the echo is out long before a whole `span`; with nothing kept, the raw microphone is all there is
    until then."""
    earlier = espeak_speech("Sit back and let your shoulders drop, and breathe slowly.", noise_floor=-60).samples
    first = espeak_speech("Now let your forehead soften and your jaw go loose.", noise_floor=-60).samples
    learnt = EchoEstimate()
    _run(learnt, _later(_echoed(earlier, 0.12, 0.4), 0.5), earlier)
    assert learnt.learnt is not None
    mic = _later(_echoed(first, 0.09, 0.4), 0.2)
    early = slice(round(0.3 * SPEECH_RATE), round(0.4 * SPEECH_RATE))
    fresh = EchoEstimate()
    assert np.array_equal(_run(fresh, mic[:6400], first[:6400])[early], mic[early])
    kept = EchoEstimate()
    kept.seed(learnt.learnt)
    residual = _run(kept, mic[:6400], first[:6400])
    assert kept.settled and abs(kept.lag - round(0.09 * SPEECH_RATE)) <= 1 and kept.depth > 30.0
    assert np.sqrt(np.mean(residual[early] ** 2)) < 0.03 * np.sqrt(np.mean(mic[early] ** 2))


def test_a_path_kept_at_another_sample_rate_is_not_used():
    from voice_guide.engines import EchoPath

    ref = espeak_speech("Now let your forehead soften and your jaw go loose.", noise_floor=-60).samples
    mic = _echoed(ref, 0.09, 0.4)
    est = EchoEstimate()
    est.seed(EchoPath(2 * SPEECH_RATE, (-1, 0, 1), (0.0, 1.0, 0.0)))
    assert np.array_equal(_run(est, mic[:6400], ref[:6400]), mic[:6400])


def test_a_moved_filter_is_not_replaced_by_one_learnt_with_a_voice_over_the_echo():
    """A voice said just before a whole `span` of the sound has been heard is in the stretch the
    filter is learnt on: that filter takes the echo down far less than the moved one did, and the
    voice stays in what is left."""
    ref = espeak_speech("Sit back and let your shoulders drop, and breathe slowly and easily.", noise_floor=-60).samples
    voice = espeak_speech("stop", "en-gb", noise_floor=-60).samples
    est = _on_the_next_sound(ref, _echoed(ref, 0.12, 0.4))
    mic = _echoed(ref, 0.1, 0.4)
    at, n = round(0.4 * SPEECH_RATE), min(len(voice), round(0.5 * SPEECH_RATE))
    mic[at : at + n] += 0.4 * voice[:n]
    residual = _run(est, mic[:12800], ref[:12800])
    assert est.moved and est.depth > 30.0
    said = slice(at, at + n)
    left = np.sum((residual[said] - 0.4 * voice[:n]) ** 2) / np.sum((0.4 * voice[:n]) ** 2)
    assert left < 0.01  # the echo is out and the voice is whole


def test_on_one_stream_a_filter_learnt_before_is_not_replaced_by_one_learnt_with_a_voice_over_the_echo():
    """The next sound reaches the microphone with the same delay: the filter is used from its first
    sample, and a stop said in it, in the stretch a new filter would be learnt on, is left whole in
    what is left (learnt into a new filter, a part of it was taken out as echo)."""
    first = espeak_speech("Sit back and let your shoulders drop, and breathe slowly.", noise_floor=-60).samples
    second = espeak_speech("Now let your forehead soften and your jaw go loose.", noise_floor=-60).samples
    voice = espeak_speech("stop", "en-gb", noise_floor=-60).samples
    est = _on_the_next_sound(first, _echoed(first, 0.12, 0.4), one_stream=True)
    mic = _echoed(second, 0.12, 0.4)
    at, n = round(0.8 * SPEECH_RATE), min(len(voice), round(0.5 * SPEECH_RATE))
    mic[at : at + n] += 0.4 * voice[:n]
    residual = _run(est, mic[:32000], second[:32000])
    said = slice(at, at + n)
    left = np.sum((residual[said] - 0.4 * voice[:n]) ** 2) / np.sum((0.4 * voice[:n]) ** 2)
    assert left < 0.005  # 0.012 when a filter learnt with the voice replaced the one kept


def test_on_one_stream_a_filter_that_no_longer_fits_is_moved_to_where_the_echo_now_is():
    """The device's timing moved between two sounds on one stream (by 4 ms, as the card's did now and
    then): the filter kept is moved to the new delay in the sound's first tenths, long before a whole
    `span` is heard."""
    first = espeak_speech("Sit back and let your shoulders drop, and breathe slowly.", noise_floor=-60).samples
    second = espeak_speech("Now let your forehead soften and your jaw go loose.", noise_floor=-60).samples
    est = _on_the_next_sound(first, _echoed(first, 0.12, 0.4), one_stream=True)
    mic = _echoed(second, 0.124, 0.4)
    residual = _run(est, mic, second)
    early = slice(round(0.3 * SPEECH_RATE), round(0.5 * SPEECH_RATE))
    assert np.sqrt(np.mean(residual[early] ** 2)) < 0.05 * np.sqrt(np.mean(mic[early] ** 2))

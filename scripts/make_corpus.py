"""Generate synthetic evaluation corpora with espeak-ng, outside the repo.

    python scripts/make_corpus.py OUT_DIR [--set commands|others|slurred|chatter|all] [--words W ...]
        [--voices N] [--seed S]

commands: every phrase of the vocabulary, several espeak-ng accents and male/female variants, slow,
normal and fast rates, with degradations imitating weak articulation (low-pass, reduced consonant
energy, time-stretch, pitch drift). others: non-command words, sentences from the guide and synthetic
coughs, clicks and breaths. slurred: the hard case (slow rate + degradations) for single command words
and for other words. chatter: what the microphone hears that is not for the guide: the guide's own
spoken sentences (its echo) and everyday room talk, in several voices; nothing there may act. Noise is
NOT mixed in here: scripts/eval_commands.py mixes fan, kitchen or babble noise at any SNR, so one corpus
serves every condition. Writes 16 kHz WAVs and OUT_DIR/manifest.csv (file,transcript,speaker,kind;
speaker is the espeak voice) and OUT_DIR/conditions.csv (file,condition: voice@rate/degradations).
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voice_guide.audio import SPEECH_RATE, Audio  # noqa: E402

VOICES = ["en-us", "en", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-us+m3", "en-us+f2", "en+f3",
          "en-gb-scotland+f4", "en-029+m5", "en-us+m7", "en+f5"]
RATES = {"slow": (90, 120), "normal": (140, 170), "fast": (190, 220)}
OTHER_WORDS = ["left", "right", "on", "off", "cat", "dog", "house", "tree", "water", "hello", "morning",
               "table", "window", "kitchen", "yellow", "sister", "garden", "paper", "music", "doctor",
               "happy", "bird", "seven", "coffee", "little", "maybe", "thursday", "orange", "pillow", "basket"]
SENTENCES = ["Sit comfortably and let your shoulders drop.", "Breathe in slowly through your nose.",
             "Let your forehead soften.", "See a doctor at once if your eye cannot close.",
             "Rest your hands in your lap.", "Notice the weight of your body on the chair.",
             "Gently stroke from the middle of the chin outwards.", "Take your time, there is no hurry."]


EVERYDAY = ["hello there", "hello", "good morning", "what time is it", "I'm going to make some tea",
            "can you hear me", "thank you", "oh dear", "the phone is ringing", "where are my glasses",
            "it's raining again", "shall we have lunch", "I don't know", "see you later", "how are you feeling",
            "turn left at the corner", "the cat wants to go out", "I feel a bit better today",
            "my face feels heavy", "is the doctor coming", "let me think", "that sounds nice",
            "could you pass the salt", "I'll call you back", "what did she say", "the kettle has boiled",
            "not now", "hmm", "oh no", "right then"]
"""Room talk near the guide: none of it is meant for it."""


def guide_sentences(limit: int) -> list[str]:
    """Sentences the guide itself speaks (its echo), spread over the whole library; not those that are
    themselves a command ("Suggestion number one."), which only the echo gate can tell apart."""
    from voice_guide.content.loader import load_library
    from voice_guide.understanding.matching import match
    from voice_guide.understanding.vocabulary import build_vocabulary
    from voice_guide.speaking.text import split_sentences

    library = load_library()
    vocab = build_vocabulary(library.items)
    said = [s for item in library.items for step in item.steps for s in split_sentences(step.say)
            if match(s, vocab).decision != "act"]
    return said[:: max(1, len(said) // limit)][:limit]


def espeak(text: str, voice: str, rate: int, pitch: int = 50) -> Audio:
    """espeak-ng to a 16 kHz float mono sound (it writes 22.05 kHz WAV to stdout)."""
    import io

    import soundfile as sf

    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch), "--stdout", text],
                         check=True, capture_output=True).stdout
    data, sr = sf.read(io.BytesIO(wav), dtype="float32")
    return Audio(data, sr).resample(SPEECH_RATE)


# ---- degradations imitating weak articulation -------------------------------------------------

def lowpass(x: np.ndarray, rate: int, cutoff: float) -> np.ndarray:
    from scipy.signal import butter, sosfiltfilt

    return sosfiltfilt(butter(4, cutoff, fs=rate, output="sos"), x).astype(np.float32)


def soften_consonants(x: np.ndarray, rate: int, db: float = -10.0) -> np.ndarray:
    """Reduce the energy of noisy high-frequency frames (fricatives, bursts) relative to vowels."""
    from scipy.signal import butter, sosfiltfilt

    high = sosfiltfilt(butter(4, 2500, btype="highpass", fs=rate, output="sos"), x)
    n = int(0.01 * rate)
    env_all = np.convolve(x**2, np.ones(n) / n, mode="same") + 1e-9
    env_high = np.convolve(high**2, np.ones(n) / n, mode="same")
    share = np.clip(env_high / env_all, 0, 1)
    gain = 1 - share * (1 - 10 ** (db / 20))
    return (x * gain).astype(np.float32)


def time_stretch(x: np.ndarray, factor: float) -> np.ndarray:
    """Slow down (factor > 1) by overlap-add of 30 ms grains, keeping the pitch."""
    win = 480
    hop_out = win // 2
    hop_in = max(1, int(hop_out / factor))
    w = np.hanning(win).astype(np.float32)
    frames = range(0, max(1, len(x) - win), hop_in)
    out = np.zeros(len(frames) * hop_out + win, dtype=np.float32)
    norm = np.zeros_like(out)
    for k, i in enumerate(frames):
        seg = x[i : i + win]
        out[k * hop_out : k * hop_out + len(seg)] += seg * w[: len(seg)]
        norm[k * hop_out : k * hop_out + len(seg)] += w[: len(seg)]
    return (out / np.maximum(norm, 1e-3)).astype(np.float32)


def pitch_drift(x: np.ndarray, cents: float) -> np.ndarray:
    """Resample-based small pitch/tempo drift over the utterance (a slowly varying playback rate)."""
    n = len(x)
    rate = 1 + (cents / 1200) * np.linspace(-1, 1, n)
    pos = np.cumsum(rate)
    pos = pos[pos < n - 1]
    return np.interp(pos, np.arange(n), x).astype(np.float32)


def degrade(audio: Audio, rng: random.Random) -> tuple[Audio, str]:
    x, sr = audio.samples, audio.rate
    x = lowpass(x, sr, rng.choice([2500, 3200, 4000]))
    x = soften_consonants(x, sr, rng.choice([-6.0, -10.0, -14.0]))
    stretch = rng.choice([1.0, 1.15, 1.3])
    if stretch != 1.0:
        x = time_stretch(x, stretch)
    cents = rng.choice([-60.0, 40.0, 80.0])
    x = pitch_drift(x, cents)
    return Audio(x, sr), f"lp+soft+stretch{stretch}+drift{cents:g}"


# ---- noises --------------------------------------------------------------------------------

def fan_noise(n: int, rate: int, seed: int) -> np.ndarray:
    """Brown-ish coloured noise with a hum at 100/200 Hz, like a fan or extractor hood."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(n)
    brown = np.cumsum(white)
    brown -= np.convolve(brown, np.ones(400) / 400, mode="same")
    t = np.arange(n) / rate
    hum = 0.3 * np.sin(2 * np.pi * 100 * t) + 0.15 * np.sin(2 * np.pi * 200 * t)
    x = brown / (np.std(brown) + 1e-9) + hum + 0.3 * white
    return (x / np.std(x)).astype(np.float32)


def kitchen_noise(n: int, rate: int, seed: int) -> np.ndarray:
    """Low background hiss plus random clatter: short decaying metallic bursts."""
    rng = np.random.default_rng(seed)
    x = 0.2 * rng.standard_normal(n)
    t = np.arange(int(0.15 * rate)) / rate
    for _ in range(max(1, n // rate * 3)):
        start = rng.integers(0, max(1, n - len(t)))
        f = rng.uniform(1500, 5000)
        burst = np.sin(2 * np.pi * f * t) * np.exp(-t * rng.uniform(20, 60)) * rng.uniform(1, 4)
        burst += 0.5 * rng.standard_normal(len(t)) * np.exp(-t * 80)
        x[start : start + len(t)] += burst[: n - start]
    return (x / np.std(x)).astype(np.float32)


_BABBLE: dict[int, np.ndarray] = {}


def babble_noise(n: int, rate: int, seed: int) -> np.ndarray:
    """Several espeak voices reading guide sentences at once, like people talking nearby."""
    if rate not in _BABBLE:
        parts = []
        for i, voice in enumerate(["en-us+m3", "en+f2", "en-gb-scotland", "en-029+f4", "en-us+m7"]):
            s = espeak(" ".join(SENTENCES[i:] + SENTENCES[:i]), voice, 170).resample(rate).samples
            parts.append(s)
        length = min(len(p) for p in parts)
        mix = sum(p[:length] for p in parts)
        _BABBLE[rate] = (mix / np.std(mix)).astype(np.float32)
    bank = _BABBLE[rate]
    start = np.random.default_rng(seed).integers(0, max(1, len(bank) - n))
    out = np.resize(bank[start:], n)
    return out.astype(np.float32)


NOISES = {"fan": fan_noise, "kitchen": kitchen_noise, "babble": babble_noise}


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Add noise so that speech power / noise power = snr_db, measured over the speech's loud part."""
    from voice_guide.hearing.frontend import frame_dbfs

    levels = frame_dbfs(speech, SPEECH_RATE)
    loud = levels[levels >= np.percentile(levels, 50)] if len(levels) else np.array([-30.0])
    speech_db = float(10 * np.log10(np.mean(10 ** (loud / 10))))
    noise_db = 10 * np.log10(np.mean(noise.astype(np.float64) ** 2) + 1e-12)
    gain = 10 ** ((speech_db - snr_db - noise_db) / 20)
    return np.clip(speech + noise * gain, -1, 1).astype(np.float32)


# ---- non-speech sounds ------------------------------------------------------------------------

def cough(rng: np.random.Generator) -> np.ndarray:
    n = int(rng.uniform(0.25, 0.45) * SPEECH_RATE)
    t = np.arange(n) / SPEECH_RATE
    env = np.exp(-t * rng.uniform(8, 15)) * (1 - np.exp(-t * 200))
    x = lowpass(rng.standard_normal(n).astype(np.float32), SPEECH_RATE, rng.uniform(1500, 3500)) * env
    return x.astype(np.float32)


def click(rng: np.random.Generator) -> np.ndarray:
    x = np.zeros(int(0.3 * SPEECH_RATE), dtype=np.float32)
    for _ in range(rng.integers(1, 4)):
        i = rng.integers(0, len(x) - 200)
        x[i : i + 200] += (rng.standard_normal(200) * np.exp(-np.arange(200) / 20)).astype(np.float32)
    return x


def breath(rng: np.random.Generator) -> np.ndarray:
    n = int(rng.uniform(0.6, 1.0) * SPEECH_RATE)
    env = np.sin(np.linspace(0, np.pi, n)) ** 2
    from scipy.signal import butter, sosfiltfilt

    x = sosfiltfilt(butter(2, [500, 3000], btype="band", fs=SPEECH_RATE, output="sos"), rng.standard_normal(n))
    return (x * env).astype(np.float32)


def padded(x: np.ndarray, rng: random.Random, level: float = 0.25) -> np.ndarray:
    """Place a sound in ~1.5 s with quiet either side, at a random speaking level."""
    x = x / (np.max(np.abs(x)) + 1e-9) * level * rng.uniform(0.5, 1.0)
    before = np.zeros(int(rng.uniform(0.15, 0.4) * SPEECH_RATE), dtype=np.float32)
    after = np.zeros(int(rng.uniform(0.3, 0.5) * SPEECH_RATE), dtype=np.float32)
    return np.concatenate([before, x.astype(np.float32), after])


# ---- corpus ---------------------------------------------------------------------------------

def command_phrases() -> list[str]:
    from voice_guide.understanding.vocabulary import build_vocabulary

    return build_vocabulary().phrases()


SLURRED_COMMANDS = ["yes", "no", "stop", "go", "up", "down", "next", "back", "pause", "repeat", "slower",
                    "faster", "louder", "quieter", "resume", "help", "start massage", "go on"]


def build(out: Path, which: str, voices: int, seed: int, words: list[str] | None,
          others: list[str] | None = None) -> int:
    import soundfile as sf

    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str, str, str]] = []

    conditions: list[tuple[str, str]] = []

    def save(name: str, x: np.ndarray, transcript: str, tag: str, kind: str) -> None:
        """Speaker is the voice (so split halves keep a voice on one side); the full condition
        (voice@rate/degradations) goes to conditions.csv."""
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        floor = nrng.standard_normal(len(x)).astype(np.float32) * np.float32(10 ** (-60 / 20))
        sf.write(path, np.clip(x + floor, -1, 1), SPEECH_RATE, subtype="PCM_16")
        rows.append((name, transcript, tag.split("@")[0], kind))
        conditions.append((name, tag))

    def say(text: str, voice: str, rate_name: str, slur: bool) -> tuple[np.ndarray, str]:
        rate = rng.randint(*RATES[rate_name])
        audio = espeak(text, voice, rate, pitch=rng.randint(35, 65))
        tag = f"{voice}@{rate}"
        if slur:
            audio, how = degrade(audio, rng)
            tag += "/" + how
        return padded(audio.samples, rng, 0.5), tag

    pool = VOICES[:voices]
    sets = ["commands", "others", "slurred"] if which == "all" else [which]
    slug = lambda s: "_".join(s.split())  # noqa: E731
    for s in sets:
        if s == "commands":
            for phrase in words or command_phrases():
                for i, voice in enumerate(rng.sample(pool, min(3, len(pool)))):
                    rate_name = ["slow", "normal", "fast"][i % 3]
                    x, tag = say(phrase, voice, rate_name, slur=i == 0)
                    save(f"commands/{slug(phrase)}_{i}.wav", x, phrase, tag, "command")
        if s in ("others", "slurred"):
            for word in others or OTHER_WORDS:
                for i, voice in enumerate(rng.sample(pool, min(2, len(pool)))):
                    x, tag = say(word, voice, "slow" if s == "slurred" else rng.choice(list(RATES)), slur=s == "slurred")
                    save(f"{s}/other_{word}_{i}.wav", x, word, tag, "not-a-command")
        if s == "others":
            for i, sentence in enumerate(SENTENCES):
                x, tag = say(sentence, rng.choice(pool), "normal", slur=False)
                save(f"others/sentence_{i}.wav", x, sentence.lower().rstrip("."), tag, "not-a-command")
            for kind, fn in (("cough", cough), ("click", click), ("breath", breath)):
                for i in range(4):
                    save(f"others/{kind}_{i}.wav", padded(fn(nrng), rng, 0.4), f"[{kind}]", "synthetic", "not-a-command")
        if s == "chatter":
            for i, text in enumerate(EVERYDAY + guide_sentences(60)):
                for j, voice in enumerate(rng.sample(pool, min(2, len(pool)))):
                    x, tag = say(text, voice, rng.choice(list(RATES)), slur=False)
                    save(f"chatter/{i:03d}_{j}.wav", x, text.lower().rstrip(".!?"), tag, "not-a-command")
        if s == "slurred":
            for word in words or SLURRED_COMMANDS:
                for i, voice in enumerate(rng.sample(pool, min(voices, len(pool)))):
                    x, tag = say(word, voice, "slow", slur=True)
                    save(f"slurred/{slug(word)}_{i}.wav", x, word, tag, "command")
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "transcript", "speaker", "kind"])
        w.writerows(rows)
    with open(out / "conditions.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "condition"])
        w.writerows(conditions)
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--set", default="all", choices=["commands", "others", "slurred", "chatter", "all"])
    ap.add_argument("--words", nargs="*", help="only these phrases (default: the whole vocabulary)")
    ap.add_argument("--others", nargs="*", help="only these non-command words (default: a built-in list)")
    ap.add_argument("--voices", type=int, default=6, help="how many espeak voice variants")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    if ROOT in args.out.resolve().parents and not (args.out.resolve().parts[len(ROOT.parts)] in ("out", "x")):
        ap.error("write corpora outside the repo (or into its git-ignored out/ folder)")
    n = build(args.out, args.set, max(1, min(args.voices, len(VOICES))), args.seed, args.words, args.others)
    print(f"wrote {n} clips and {args.out / 'manifest.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

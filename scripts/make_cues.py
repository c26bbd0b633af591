"""Write the guide's cue sounds (voice_guide.speaking.cues) to audio/cues/*.wav, 16-bit mono.

The files are committed so players and people without Python can use them; tests/test_cues.py checks
they still equal what voice_guide.speaking.cues makes. Run again after changing cues.py:

    .venv/bin/python scripts/make_cues.py
"""

from __future__ import annotations

import sys
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voice_guide.speaking.cues import CUES  # noqa: E402
from voice_guide.fileio import atomic_path  # noqa: E402

CUE_DIR = ROOT / "audio" / "cues"


def write_wav(path: Path, pcm16: bytes, rate: int) -> None:
    with atomic_path(path) as tmp:
        with wave.open(str(tmp), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(pcm16)
        tmp.chmod(0o644)


def main() -> int:
    CUE_DIR.mkdir(parents=True, exist_ok=True)
    for name, make in CUES.items():
        sound = make()
        path = CUE_DIR / f"{name}.wav"
        write_wav(path, sound.to_pcm16(), sound.rate)
        print(f"{path.relative_to(ROOT)}: {sound.duration:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The loudness of exported tracks, measured with pyloudnorm (ITU-R BS.1770), and their true peak.

Measures the audio files given (or every track in a folder); with no file, first exports the named
topics and sessions (default: the whole library) with the user's voice settings into a temporary
folder, using the speech cache in a temporary home unless --keep-cache. Prints each track's integrated
loudness in LUFS and true peak in dBTP (4x oversampled), the target (the loudness setting) and whether
every track is within 1 LU of it with its true peak at most -1 dBTP. Needs the bench extra
(`pip install -e '.[bench]'`).

    .venv/bin/python scripts/measure_loudness.py [FILE_OR_FOLDER ...] [--names NAME ...] [--format mp3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOLERANCE_LU = 1.0


def measure(path: Path) -> tuple[float, float]:
    """(integrated LUFS by pyloudnorm, true peak dBTP) of a decoded file."""
    import pyloudnorm
    from scipy.signal import resample_poly

    from voice_guide.adapters.pydub_export import decode

    audio = decode(path)
    samples = audio.samples.astype(np.float64)
    lufs = pyloudnorm.Meter(audio.rate).integrated_loudness(samples)
    peak = float(np.max(np.abs(resample_poly(samples, 4, 1)))) if len(samples) else 0.0
    return lufs, 20 * np.log10(peak) if peak > 0 else float("-inf")


def export(names: list[str], fmt: str, folder: Path, keep_cache: bool) -> list[Path]:
    if not keep_cache:
        os.environ["VOICE_GUIDE_HOME"] = str(folder / "home")
    from voice_guide.cli import main as cli

    out = folder / "out"
    out.mkdir(parents=True)
    if cli(["export", *names, "--format", fmt, "--out", str(out)]) != 0:
        raise SystemExit("the export failed")
    return sorted(out.glob(f"*.{fmt}"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="exported tracks or folders (default: export now)")
    parser.add_argument("--names", nargs="*", default=[], help="what to export (default: the whole library)")
    parser.add_argument("--format", default="mp3", choices=("mp3", "ogg", "wav", "m4a"))
    parser.add_argument("--keep-cache", action="store_true", help="export with your own speech cache")
    args = parser.parse_args()
    from voice_guide.loudness import PEAK_DBTP
    from voice_guide.settings import load

    target = float(load().loudness)
    with tempfile.TemporaryDirectory(prefix="voice-guide-loudness-") as scratch:
        files = [f for p in args.files for f in (sorted(p.iterdir()) if p.is_dir() else [p])
                 if f.suffix.lstrip(".") in ("mp3", "ogg", "wav", "m4a")]
        if not args.files:
            files = export(args.names, args.format, Path(scratch), args.keep_cache)
        print(f"{'track':<56} {'LUFS':>6} {'dBTP':>6}")
        good = True
        for path in files:
            lufs, peak = measure(path)
            ok = abs(lufs - target) <= TOLERANCE_LU and peak <= PEAK_DBTP
            good &= ok
            print(f"{path.name[:56]:<56} {lufs:6.1f} {peak:6.1f}{'' if ok else '  <- off target'}")
    print(f"target {target:g} LUFS +/- {TOLERANCE_LU:g}, true peak <= {PEAK_DBTP:g} dBTP: "
          f"{'all tracks' if good else 'NOT all tracks'}")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())

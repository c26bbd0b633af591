"""How loud the spoken "halfway" is against the guidance around it, in dB: in the exported track of a
session (rendered exactly as `voice-guide export` does) and as the guide plays it live (each sentence
as the synthesiser renders it, at the user's volume). Levels are RMS over the voiced frames
(`render.voiced_dbfs`), so pauses do not count.

    python scripts/measure_halfway.py [SESSION]      # default: quiet-face
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voice_guide import settings as settings_mod  # noqa: E402
from voice_guide.content.loader import load_library  # noqa: E402
from voice_guide.speaking.render import HALFWAY_GAIN_DB, render_item, voiced_dbfs  # noqa: E402
from voice_guide.speaking.speech import voice_settings  # noqa: E402
from voice_guide.engine_table import open_synthesizer  # noqa: E402
from voice_guide.timeline import HALFWAY_TEXT  # noqa: E402


def level(samples: np.ndarray, rate: int) -> float:
    return voiced_dbfs(samples, rate)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("session", nargs="?", default="quiet-face")
    opts = parser.parse_args()
    settings = settings_mod.load()
    item = load_library().get(opts.session)
    voice = voice_settings(settings)
    synth = open_synthesizer(settings)
    try:
        rendered = render_item(item, synth, voice)
        rate, samples = rendered.audio.rate, rendered.audio.samples
        speech = np.concatenate([samples[round(s.start * rate) : round(s.end * rate)]
                                 for s in rendered.segments if s.kind == "speech"])
        halfway = [s for s in rendered.segments if s.kind == "halfway"]
        if not halfway:
            print(f"{item.name} has no spoken halfway.")
            return 1
        h = halfway[0]
        cue = samples[round(h.start * rate) : round(h.end * rate)]
        track_speech, track_halfway = level(speech, rate), level(cue, rate)
        live_parts = [synth.synthesize(s.say, voice) for s in item.steps if s.say]
        live_speech = level(np.concatenate([a.samples for a in live_parts]), live_parts[0].rate)
        live_cue = synth.synthesize(HALFWAY_TEXT, voice)
        live_halfway = level(live_cue.samples, live_cue.rate)
    finally:
        synth.close()
    print(f"session: {item.title}; halfway said as {HALFWAY_TEXT!r} ({h.duration:.2f} s), "
          f"set {HALFWAY_GAIN_DB:+.1f} dB against the speech in tracks")
    print(f"exported track: speech {track_speech:.1f} dBFS, halfway {track_halfway:.1f} dBFS, "
          f"difference {track_halfway - track_speech:+.1f} dB")
    print(f"played live:    speech {live_speech:.1f} dBFS, halfway {live_halfway:.1f} dBFS, "
          f"difference {live_halfway - live_speech:+.1f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

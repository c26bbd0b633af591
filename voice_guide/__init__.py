"""voice-guide: an offline, voice-first audio guide for people with acute facial palsy."""

import os

# The guide's matrices are small (the echo's filter, 33 taps): OpenBLAS's worker threads only spin
# against the recogniser and the sound callbacks, and on a busy 2-core machine made the loop fall
# seconds behind the microphone. Set before numpy loads OpenBLAS; a user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"

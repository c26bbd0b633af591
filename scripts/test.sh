#!/usr/bin/env bash
# Runs the whole test suite: sets up what is missing, starts a virtual sound card (so real playback and
# microphone paths are tested), then pytest. Extra arguments go to pytest (both phases).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
eval "$(bash scripts/virtual_sound.sh)"
# Two phases (tests/conftest.py's PHASE): the tests not marked `sound` in two workers, then those
# marked `sound`, which play and record in real time, alone.
set +e
VOICE_GUIDE_TEST_PHASE=others .venv/bin/python -m pytest -n 2 "$@"
others=$?
VOICE_GUIDE_TEST_PHASE=sound .venv/bin/python -m pytest "$@"
sound=$?
set -e
if [ $others = 5 ] && [ $sound = 5 ]; then
  echo "voice-guide tests: no tests were collected" >&2
  exit 1
fi
for status in $others $sound; do
  if [ $status != 0 ] && [ $status != 5 ]; then
    exit $status
  fi
done

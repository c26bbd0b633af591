#!/usr/bin/env bash
# Runs the whole test suite: sets up what is missing, starts a virtual sound card (so real playback and
# microphone paths are tested), then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
eval "$(bash scripts/virtual_sound.sh)"
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ $status = 5 ]; then
  echo "voice-guide tests: no tests were collected" >&2
  exit 1
fi
exit $status

#!/usr/bin/env bash
# Sets up voice-guide on a Debian machine: system packages, a virtual environment in .venv, the package.
# Safe to run again: it installs only what is missing. Usage: bash scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

debs=(espeak-ng libespeak-ng1 libportaudio2 ffmpeg)
# The test suite plays and records through a virtual sound card.
[ $want_test = 1 ] && debs+=(pulseaudio pulseaudio-utils libasound2-plugins)

missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v python3 >/dev/null; then missing+=(python3 python3-venv)
elif ! python3 -c "import venv, ensurepip" 2>/dev/null; then missing+=(python3-venv); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "voice-guide setup: installing system packages: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "voice-guide setup: please run as root, or install sudo." >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "voice-guide setup: creating the virtual environment in .venv"
  python3 -m venv .venv
fi
extras=""
[ $want_test = 1 ] && extras="[test,bench]"
stamp=".venv/.voice-guide-installed$extras"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "voice-guide setup: installing voice-guide and its Python packages"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extras"
  # Google speech_embedding as ONNX, the command model's alternative front end, measured by the training
  # scripts (the guide hears through Whisper's encoder): only its two feature models are used, so none
  # of openwakeword's training dependencies (scikit-learn, tflite) are needed.
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps "openwakeword==0.5.1"
  touch "$stamp"
fi
echo "voice-guide setup: ready. Start the guide with: .venv/bin/voice-guide"

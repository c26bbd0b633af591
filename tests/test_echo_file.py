"""The echo paths kept per speaker and microphone pair: read back as written, a missing or damaged
file ignored (never raised), every write atomic."""

from __future__ import annotations

import json

import pytest

from voice_guide.adapters.echo_file import FORMAT, VERSION, EchoFile
from voice_guide.engines import EchoMemory, EchoPath
from voice_guide.testing import FakeEchoMemory
from voice_guide.wiring import Devices, echo_file

PATH = EchoPath(16000, (-2, -1, 0, 1, 2), (0.01, -0.1, 0.9, 0.2, -0.02))


@pytest.mark.parametrize("memory", [lambda: EchoFile(echo_file()), FakeEchoMemory])
def test_a_path_is_kept_for_its_pair_only(guide_home, memory):
    kept: EchoMemory = memory()
    assert kept.load("default -> default") is None
    kept.save("default -> default", PATH)
    kept.save("2 -> 1", EchoPath(48000, (0,), (0.5,)))
    assert kept.load("default -> default") == PATH
    assert kept.load("2 -> 1") == EchoPath(48000, (0,), (0.5,))
    assert kept.load("3 -> 1") is None


def test_the_guide_s_file_is_in_the_user_s_data_folder_and_nothing_half_written_is_left(guide_home):
    Devices().echo_memory().save("a", PATH)
    Devices().echo_memory().save("b", PATH)
    assert [p.name for p in (guide_home / "data").iterdir()] == ["echo.json"]
    assert Devices().echo_memory().load("a") == EchoFile(echo_file()).load("b") == PATH


def record(**path) -> bytes:
    good = {"rate": 16000, "offsets": [-1, 0, 1], "taps": [0.1, 0.8, 0.1]}
    return json.dumps({"format": FORMAT, "version": VERSION, "paths": {"a": {**good, **path}}}).encode()


BAD = [
    ("corrupt", b"{not json"),
    ("not text", b"\xff\xfe\x00garbage\x81"),
    ("not ours", json.dumps({"format": "something-else", "paths": {}}).encode()),
    ("newer", record().replace(b'"version": 1', b'"version": 9')),
    ("a list", b"[1, 2, 3]"),
    ("no rate", record(rate=None)),
    ("boolean rate", record(rate=True)),
    ("taps and delays differ", record(taps=[0.5])),
    ("delays not a run", record(offsets=[-1, 0, 2])),
    ("delays not whole", record(offsets=[-1.0, 0.0, 1.0])),
    ("weights not numbers", record(taps=["a", 0.8, 0.1])),
    ("no filter", record(offsets=[], taps=[])),
    ("a folder", None),
]


@pytest.mark.parametrize("why, data", BAD, ids=[b[0] for b in BAD])
def test_a_missing_or_damaged_file_is_ignored_and_replaced_by_what_is_learnt(guide_home, why, data):
    path = echo_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        path.mkdir()
    else:
        path.write_bytes(data)
    assert EchoFile(echo_file()).load("a") is None
    EchoFile(echo_file()).save("b", PATH)  # never raises, even where it cannot write
    if data is not None:
        assert EchoFile(echo_file()).load("b") == PATH


def test_a_good_record_is_read_even_when_another_is_damaged(guide_home):
    path = echo_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(record())
    data["paths"]["b"] = {"rate": "fast"}
    path.write_text(json.dumps(data))
    assert EchoFile(echo_file()).load("a") == EchoPath(16000, (-1, 0, 1), (0.1, 0.8, 0.1))
    assert EchoFile(echo_file()).load("b") is None


def test_only_the_latest_pairs_are_kept(guide_home):
    from voice_guide.adapters.echo_file import MAX_PAIRS

    for n in range(MAX_PAIRS + 3):
        EchoFile(echo_file()).save(f"pair {n}", PATH)
    assert EchoFile(echo_file()).load("pair 0") is None and EchoFile(echo_file()).load(f"pair {MAX_PAIRS + 2}") == PATH


def test_each_speaker_and_microphone_pair_has_its_own_path():
    from voice_guide.settings import Settings
    from voice_guide.wiring import echo_key

    assert echo_key(Settings()) == "default -> default"
    assert echo_key(Settings(output_device="USB speaker", input_device=2)) == "USB speaker -> 2"
    assert echo_key(Settings(output_device="USB speaker")) != echo_key(Settings(input_device="USB speaker"))

"""`voice-guide hear`: recorded utterances through the recogniser and matcher, via the real CLI."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from voice_guide import cli
from voice_guide.audio import Audio, add_noise_floor
from voice_guide.engines import Hypothesis
from voice_guide.testing import ScriptedRecognizer
from voice_guide.wiring import Devices


class NoticingRecognizer(ScriptedRecognizer):
    notice = "No Vosk model was found, so the built-in recogniser is used."


class Scripted:
    """Hands `hear` a scripted recogniser (through `Devices`, as the CLI takes them); remembers what it
    was opened with."""

    def __init__(self) -> None:
        self.devices = Devices()

    def __call__(self, script, cls=ScriptedRecognizer) -> dict:
        opened: dict = {}

        def factory(settings, vocab):
            opened["phrases"] = list(vocab.phrases())
            opened["recognizer"] = cls(script)
            return opened["recognizer"]

        self.devices = Devices(recognizer=factory)
        return opened

    def main(self, argv: list[str]) -> int:
        return cli.main(argv, devices=self.devices)


@pytest.fixture
def scripted(guide_home) -> Scripted:
    return Scripted()


def wav(path, seconds=0.5, rate=16000):
    sf.write(path, np.zeros(round(seconds * rate), dtype=np.float32), rate)
    return str(path)


def test_json_lines_one_per_file(tmp_path, scripted, capsys):
    opened = scripted([
        "um next please",
        [Hypothesis("pause", 0.5), Hypothesis("next", 0.5)],
        "step three",
        "cat",
        [],
    ])
    files = [wav(tmp_path / f"{i}.wav") for i in range(5)]
    assert scripted.main(["hear", *files, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["file"] for r in rows] == files
    assert [(r["command"], r["decision"]) for r in rows] == [
        ("next", "act"), ("pause", "ask"), ("step:3", "act"), (None, "none"), (None, "none"),
    ]
    assert rows[0]["text"] == "um next please" and rows[4]["text"] == ""
    assert rows[1]["alternatives"] == ["pause", "next"]
    for row in rows:
        assert {"file", "text", "command", "score", "decision", "path", "decode_ms"} <= set(row)
        assert row["path"] == "recogniser" and row["decode_ms"] >= 0 and 0 <= row["score"] <= 1
    assert "next" in opened["phrases"] and "step three" in opened["phrases"]


def test_item_names_from_the_library_are_understood(tmp_path, scripted, capsys):
    from voice_guide.content.loader import load_library
    from voice_guide.understanding.phrases import normalise

    item = load_library().items[-1]
    scripted([f"open {item.title}"])
    assert scripted.main(["hear", wav(tmp_path / "a.wav"), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert (row["command"], row["decision"]) == (f"open:{item.name}", "act"), normalise(item.title)


def test_plain_lines(tmp_path, scripted, capsys):
    scripted(["next", [Hypothesis("pause", 0.5), Hypothesis("next", 0.5)], "left"])
    files = [wav(tmp_path / f"{n}.wav") for n in ("a", "b", "c")]
    assert scripted.main(["hear", *files]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f'{files[0]}: "next" -> next (act)')
    assert "ask: pause or next?" in lines[1]
    assert "no command" in lines[2]


def test_bad_files_are_reported_and_the_run_goes_on(tmp_path, scripted, capsys):
    opened = scripted(["next", "stop"])
    (tmp_path / "zero.wav").write_bytes(b"")
    (tmp_path / "noise.wav").write_bytes(np.random.default_rng(0).bytes(3000))
    files = [wav(tmp_path / "a.wav"), str(tmp_path / "zero.wav"), str(tmp_path / "missing.wav"),
             str(tmp_path / "noise.wav"), wav(tmp_path / "b.wav")]
    assert scripted.main(["hear", *files, "--json"]) == 1
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["file"] for r in rows] == files
    assert [r.get("command") for r in rows] == ["next", None, None, None, "stop"]
    for row in rows[1:4]:
        assert set(row) == {"file", "error"} and row["file"] in row["error"]
    assert len(opened["recognizer"].decoded) == 2


def test_bad_file_in_plain_mode_goes_to_stderr(tmp_path, scripted, capsys):
    scripted(["next"])
    assert scripted.main(["hear", str(tmp_path / "missing.wav"), wav(tmp_path / "a.wav")]) == 1
    out, err = capsys.readouterr()
    assert "missing.wav: there is no such file" in err
    assert "-> next (act)" in out


def test_the_recogniser_notice_is_said_once(tmp_path, scripted, capsys):
    scripted(["next", "stop", "yes"], cls=NoticingRecognizer)
    files = [wav(tmp_path / f"{i}.wav") for i in range(3)]
    assert scripted.main(["hear", *files, "--json"]) == 0
    err = capsys.readouterr().err
    assert err.count("No Vosk model was found") == 1


def test_audio_reaches_the_recogniser_as_16k_mono(tmp_path, scripted):
    opened = scripted(["next"])
    path = tmp_path / "stereo.wav"
    sf.write(path, np.zeros((48000, 2), dtype=np.float32), 48000, subtype="PCM_24")
    assert scripted.main(["hear", str(path)]) == 0
    (audio,) = opened["recognizer"].decoded
    assert audio.rate == 16000 and len(audio) == 16000


def test_help_lists_the_command():
    assert "hear" in cli.build_parser().format_help()


@pytest.mark.skipif(importlib.util.find_spec("voice_guide.understanding.recognition") is None,
                    reason="voice_guide.understanding.recognition is not there yet")
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
@pytest.mark.slow
def test_real_recogniser_hears_espeak_next(tmp_path, guide_home, capsys):
    raw = tmp_path / "raw.wav"
    subprocess.run(["espeak-ng", "-v", "en", "-s", "140", "-w", str(raw), "next"], check=True)
    data, rate = sf.read(raw, dtype="float32")
    speech = Audio(np.concatenate([np.zeros(rate // 2), data, np.zeros(rate // 2)]), rate)
    speech = add_noise_floor(speech.resample(16000), dbfs=-55.0)
    path = tmp_path / "next.wav"
    sf.write(path, speech.samples, 16000)
    assert cli.main(["hear", str(path), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert (row["command"], row["decision"]) == ("next", "act"), row

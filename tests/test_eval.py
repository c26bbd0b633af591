"""scripts/make_corpus.py and scripts/eval_commands.py run end to end on a tiny generated corpus."""

import csv
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import eval_commands  # noqa: E402
import make_corpus  # noqa: E402

pytestmark = pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng is not installed")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    make_corpus.build(out, "commands", 2, 1, ["next", "stop"])
    rows = list(csv.reader(open(out / "manifest.csv")))
    make_corpus.build(out / "o", "others", 2, 1, None, ["window"])
    extra = [[f"o/{r[0]}", *r[1:]] for r in list(csv.reader(open(out / "o" / "manifest.csv")))[1:]
             if "sentence" not in r[0]][:6]
    with open(out / "manifest.csv", "w", newline="") as fh:
        csv.writer(fh).writerows(rows + extra)
    return out / "manifest.csv"


@pytest.mark.slow
def test_corpus_manifest_and_files(corpus):
    rows = list(csv.DictReader(open(corpus)))
    assert {r["transcript"] for r in rows} >= {"next", "stop", "window", "[cough]"}
    assert {r["kind"] for r in rows} == {"command", "not-a-command"}
    assert all((corpus.parent / r["file"]).is_file() for r in rows)
    conditions = list(csv.DictReader(open(corpus.parent / "conditions.csv")))
    assert any("lp+soft" in c["condition"] for c in conditions)  # degraded takes are there and labelled


@pytest.mark.slow
def test_eval_prints_the_figures(corpus, capsys):
    assert eval_commands.main([str(corpus), "--recogniser", "pocketsphinx", "--split"]) == 0
    out = capsys.readouterr().out
    for label in ("commands right", "false accepts", "decode ms", "confusion", "speaker half A", "peak memory"):
        assert label in out
    assert "(4)" not in out and "/4)" in out  # four command clips: 2 words x 2 voices


@pytest.mark.slow
def test_eval_json_with_noise_and_plot(corpus, tmp_path, capsys):
    png = tmp_path / "snr.png"
    assert eval_commands.main([str(corpus), "--recogniser", "pocketsphinx", "--noise", "kitchen",
                               "--snr", "12", "--plot", str(png), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["label"].split(" at ")[-1] for r in report["results"]] == ["12 dB SNR"]
    for r in report["results"]:
        assert r["command_clips"] == 4 and r["other_clips"] == 6
        assert 0 <= r["accuracy"] <= 1 and 0 <= r["false_accept_rate"] <= 1
        assert r["decode_ms_median"] > 0
    assert report["peak_memory_mb"] > 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("noise", sorted(make_corpus.NOISES))
@pytest.mark.parametrize("snr", [24.0, 6.0])
def test_noise_is_mixed_at_the_asked_snr(noise, snr):
    t = np.arange(16000) / 16000
    speech = (0.2 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    noisy = make_corpus.mix_at_snr(speech, make_corpus.NOISES[noise](16000, 16000, 3), snr)
    got = 10 * np.log10(np.mean(speech**2) / np.mean((noisy - speech) ** 2))
    assert got == pytest.approx(snr, abs=1.0)


def test_a_clip_as_heard_live_is_its_sound_cut_out_as_the_endpointer_cuts_it():
    from voice_guide.audio import Audio
    from voice_guide.hearing.listen import PREROLL, TAIL

    t = np.arange(6400) / 16000
    word = (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    clip = Audio(np.concatenate([np.zeros(16000, np.float32), word, np.zeros(16000, np.float32)]), 16000)
    heard = eval_commands.as_heard(clip, 0)
    assert heard is not None and 0.4 <= len(heard.samples) / 16000 <= 0.4 + PREROLL + TAIL + 0.1
    assert np.sqrt(np.mean(heard.samples**2)) > 0.1
    assert eval_commands.as_heard(Audio(np.zeros(32000, np.float32), 16000), 0) is None


def test_commands_with_no_argument_and_one_word_commands_are_counted_apart():
    """The aggregate of a set of every phrase hides the commands people say most."""
    from voice_guide.understanding.command import Command

    def result(transcript, expected, got):
        clip = eval_commands.Clip(Path(transcript), transcript, "v", "command", expected)
        return eval_commands.Result(clip, "act" if got else "none", got, transcript, 0.0)

    results = [result("next", Command("next"), Command("next")), result("go on", Command("next"), None),
               result("step four", Command("step", 4), Command("step", 4)), result("window", None, None)]
    plain, one_word = eval_commands.plain_commands(results)
    assert [r.clip.transcript for r in plain] == ["next", "go on"]
    assert [r.clip.transcript for r in one_word] == ["next"]
    f = eval_commands.figures("x", plain)
    assert (f.commands, f.right, f.others) == (2, 1, 0)


def test_expected_commands_come_from_the_matcher():
    vocab = eval_commands.build_vocabulary()
    assert eval_commands.expected_command("go", vocab).id == "resume"
    assert eval_commands.expected_command("up", vocab).id == "louder"
    for word in ("left", "right", "on", "off", "cat"):
        assert eval_commands.expected_command(word, vocab) is None


def test_eval_voices_counts_word_errors_against_what_a_track_says():
    import eval_voices

    from voice_guide.content.model import Item, Step

    item = Item("q", "Quiet face", "session", (Step("Sit well - no force.", hold=9, halfway=True),
                                                Step("Ask your E N T doctor.", hold=1)), order=0, length=20)
    spoken = eval_voices.spoken_words(item)
    assert spoken == ["quiet", "face", "sit", "well", "no", "force", "halfway", "ask", "your", "e", "n", "t",
                      "doctor"]
    heard = eval_voices.words("Quiet face. Sit well, no force! Half way. Ask your ENT doctor.")
    assert eval_voices.word_errors(spoken, heard) == 5  # halfway -> half way (2), e n t -> ent (3)
    assert eval_voices.word_errors(spoken, spoken) == 0


def test_chatter_takes_the_guides_own_sentences_and_none_is_a_command():
    said = make_corpus.guide_sentences(5)
    assert len(said) == 5
    vocab = eval_commands.build_vocabulary()
    assert all(eval_commands.matching.match(s, vocab).decision != "act" for s in said)

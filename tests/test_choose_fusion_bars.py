"""scripts/choose_fusion_bars.py and the validation voices: which voices a validation head leaves out,
how a grid of bars decides the clips heard once, and one tiny corpus heard for real."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import choose_fusion_bars as bars  # noqa: E402
import command_corpus  # noqa: E402
import corpus_voices  # noqa: E402
from voice_guide.understanding.command_model import NOT_A_COMMAND  # noqa: E402
from voice_guide.understanding.fusion import RULE  # noqa: E402
from voice_guide.understanding.vocabulary import build_vocabulary  # noqa: E402


def test_the_validation_voices_are_training_voices_and_voices_made_with_them_are_left_out_too():
    voices = corpus_voices.all_voices(("espeak", "piper", "kokoro"), seed=18)
    train = {v.name for v in voices if v.split == "train"}
    assert set(command_corpus.VALIDATION) <= train
    assert command_corpus.validation_voice("af_nicole+af_sky@0.5")
    assert command_corpus.validation_voice("en-us-nyc+f2")
    assert command_corpus.validation_voice("en-us+f2")  # f2's voice in another accent
    assert not command_corpus.validation_voice("af_bella+af_sky@0.5")
    assert not command_corpus.validation_voice("en-us+f1")
    assert not command_corpus.validation_voice("en-us+Robert")
    assert not command_corpus.validation_voice("joe")
    # a standard corpus's voices: the validation voices themselves and Kokoro blends with them
    named = {v for v in train if set(v.split("@")[0].split("+")) & set(command_corpus.VALIDATION)}
    assert {v for v in train if command_corpus.validation_voice(v)} == named | set(command_corpus.VALIDATION)


def _row(name: str, label: str, condition: str = "plain+normal+dry", speaker: str = "af_nicole",
         split: str = "train") -> command_corpus.Row:
    kind = "not-a-command" if label == NOT_A_COMMAND else "command"
    return command_corpus.Row(Path(name), "", speaker, kind, label, split, condition)


def test_a_validation_head_embeds_the_clips_the_shipped_head_does_and_learns_from_fewer():
    """The validation voices are left out after the embedding pass, so one embedding cache serves both
    heads; held-out clips are never training clips."""
    from train_commands import training_rows

    corpora = [[_row("a.wav", "next", speaker="af_nicole+af_sky@0.5"), _row("b.wav", "next", speaker="af_bella"),
                _row("c.wav", "next", speaker="am_liam", split="heldout")],
               [_row("d.wav", NOT_A_COMMAND, speaker="en-us-nyc+f2"), _row("e.wav", "stop", speaker="joe")]]
    shipped, everything = training_rows(corpora, validation=False)
    validation, kept = training_rows(corpora, validation=True)
    assert shipped == validation
    assert [[r.path.name for r in c] for c in validation] == [["a.wav", "b.wav"], ["d.wav", "e.wav"]]
    assert everything.tolist() == [True] * 4
    assert kept.tolist() == [False, True, False, True]


def test_the_card_names_the_corpus_voices_and_counts_the_speakers_drawn_for_a_clip():
    from train_commands import FEW_CLIPS, voice_list

    train = [_row(f"{i}.wav", "next", speaker="joe") for i in range(FEW_CLIPS)]
    assert voice_list(train) == "joe"
    train += [_row(f"b{i}.wav", "next", speaker=f"af_bella+af_sky@0.{i}") for i in range(1, 4)]
    assert voice_list(train) == "joe, and 3 drawn for a clip or a few"


def test_a_grid_decides_each_clip_heard_once_by_its_own_bars():
    """A weak "pause" written "jaws" (no command to the matcher) acts only at the lower `alone`; room
    talk of five words the model takes for next (0.95) only at the lower `alone_long`; a plain "next"
    at every bar."""
    vocab = build_vocabulary()
    rows = [_row("a", "pause", "palsy-mild+slow+dry"), _row("b", NOT_A_COMMAND), _row("c", "next")]
    heard = {
        "a": {"nbest": [["jaws", 1.0]], "scores": {"pause": 0.96, NOT_A_COMMAND: 0.04}},
        "b": {"nbest": [["my tea is very hot", 1.0]], "scores": {"next": 0.95, NOT_A_COMMAND: 0.05}},
        "c": {"nbest": [["next", 1.0]], "scores": {"next": 0.99, NOT_A_COMMAND: 0.01}},
    }
    rules = bars.grid_rules(["alone=0.95,0.97", "alone_long=0.9,0.99"])
    assert [(r.alone, r.alone_long) for r in rules] == [(0.95, 0.9), (0.95, 0.99), (0.97, 0.9), (0.97, 0.99)]
    assert all(r.overrule == RULE.overrule for r in rules)
    assert bars.figures(rows, heard, rules[0], vocab) == {"weak lips": [1, 1, 0, 0, 0], "plain": [1, 1, 0, 1, 1]}
    assert bars.figures(rows, heard, rules[3], vocab) == {"weak lips": [1, 0, 0, 0, 0], "plain": [1, 1, 0, 1, 0]}


@pytest.mark.parametrize("spec", ["nothing=1", "alone", "unclear=yeah"])
def test_a_grid_of_an_unknown_or_non_numeric_field_is_refused(spec):
    with pytest.raises(SystemExit):
        bars.grid_rules([spec])


@pytest.mark.slow
def test_a_tiny_corpus_is_heard_once_through_whisper_and_the_shipped_head(tmp_path, capsys):
    import csv
    import shutil

    import make_training_corpus

    from voice_guide.understanding.command_model import shipped_head_path

    out = tmp_path / "corpus"
    assert make_training_corpus.main(["--out", str(out), "--quick", "--engines", "espeak", "--jobs", "1",
                                      "--phrases", "next"]) == 0
    capsys.readouterr()
    rows = list(csv.DictReader(open(out / "manifest.csv", encoding="utf-8")))
    voice = next(r["speaker"] for r in rows if r["split"] == "train" and r["kind"] == "command")
    argv = [str(out / "manifest.csv"), "--head", str(shipped_head_path()), "--voices", voice,
            "--cache", str(tmp_path / "heard.npz"), "--grid", "alone=0.9,0.99"]
    assert bars.main(argv) == 0
    first = capsys.readouterr().out.splitlines()
    cached = (tmp_path / "heard.npz").stat().st_mtime_ns
    other = tmp_path / "other-head.npz"  # another head: the same clips, heard once
    shutil.copy(shipped_head_path(), other)
    assert bars.main(argv[:1] + ["--head", str(other)] + argv[3:]) == 0
    assert capsys.readouterr().out.splitlines() == first
    assert (tmp_path / "heard.npz").stat().st_mtime_ns == cached  # nothing heard again
    other.write_bytes(b"not a head")
    with pytest.raises(SystemExit, match="cannot be used"):
        bars.main(argv[:1] + ["--head", str(other)] + argv[3:])
    lines = [line for line in first if line.startswith("alone=")]
    assert len(lines) == 2 and {line.split(" |")[0] for line in lines} == {"alone=0.9", "alone=0.99"}
    clips = sum(r["speaker"] == voice and r["split"] == "train" for r in rows)
    assert first[0].startswith(f"{clips} clips of 1 validation voices")

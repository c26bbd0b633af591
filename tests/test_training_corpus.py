"""scripts/make_training_corpus.py: weak lips on the phonemes, the plan's rows and its split rule (no
held-out voice ever in training), and one tiny corpus end to end that scripts/eval_commands.py reads."""

import csv
import random
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import corpus_text  # noqa: E402
import corpus_voices  # noqa: E402
import make_training_corpus as corpus  # noqa: E402
import palsy  # noqa: E402

LABELS = {"next": ["next", "go on"], "pause": ["pause", "hold on"], "open:self-massage": ["start massage"]}
VOICES = corpus_voices.all_voices(("espeak", "piper", "kokoro"), seed=1)


@pytest.mark.parametrize("scheme, phonemes", [
    ("ipa", "pˈɔːz bˈæk mˈɛnjuː fˈæstɚ wˈeɪt ɹᵻzˈuːm"),
    ("espeak", "p'O:z b'ak m'Enju: f'aast3 w'eIt rI#z'u:m"),
    ("kokoro", "pˈɔz bˈæk mˈɛnju fˈæstəɹ wˈAt ɹᵻzˈum gˈO"),
])
def test_moderate_weak_lips_change_most_lip_sounds(scheme, phonemes):
    weak = palsy.weaken(phonemes * 8, "moderate", scheme, random.Random(3))
    assert palsy.lip_sounds(weak, scheme) < 0.6 * palsy.lip_sounds(phonemes * 8, scheme)
    assert weak.count(" ") == (phonemes * 8).count(" ")


def test_ipa_weak_lips_turn_stops_into_breath_and_unround_vowels():
    weak = palsy.weaken("pˈuː bˈoʊ " * 20, "moderate", "ipa", random.Random(0))
    assert set("ɸβɯɤ") <= set(weak)
    assert sum(weak.count(c) for c in "pbuo") < sum(weak.count(c) for c in "ɸβɯɤ")


def test_mild_changes_fewer_sounds_than_moderate_and_sounds_without_lips_stay():
    text = "pˈɔːz bˈæk mˈɛnjuː fˈæstɚ wˈeɪt pˈɔːz bˈæk mˈɛnjuː fˈæstɚ wˈeɪt " * 4
    left = {s: palsy.lip_sounds(palsy.weaken(text, s, "ipa", random.Random(5)), "ipa") for s in palsy.SEVERITIES}
    assert left["moderate"] < left["mild"] < palsy.lip_sounds(text, "ipa")
    assert palsy.weaken("nˈɛkst ɡˌoʊ", "moderate", "espeak", random.Random(1)) == "nˈɛkst ɡˌoʊ"


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng is not installed")
def test_every_weak_vowel_espeak_is_given_is_one_it_says():
    import subprocess

    def said(phonemes: str) -> int:
        return len(subprocess.run(["espeak-ng", "-v", "en-us", "--stdout", f"[[{phonemes}]]"],
                                  check=True, capture_output=True).stdout)

    nothing = said("n'n")
    for vowel in set(palsy.ESPEAK["vowels"].values()):
        assert said(f"n'{vowel}n") > 1.5 * nothing, vowel


def test_the_same_seed_gives_the_same_weak_phonemes():
    assert len({palsy.weaken("pˈɔːz bˈæk mˈɛnjuː", "mild", "ipa", random.Random(9)) for _ in range(3)}) == 1


def test_a_piper_take_is_the_same_on_every_run_whatever_was_rendered_before():
    """Piper draws noise inside its model: a take must not depend on the worker or the takes before it."""
    first, second = corpus_voices.Engines(), corpus_voices.Engines()
    take = first.piper_say("hold on", 0.75, "mild", random.Random(7))
    second.piper_say("next", 1.0, None, random.Random(1))
    assert np.array_equal(second.piper_say("hold on", 0.75, "mild", random.Random(7)), take)
    assert not np.array_equal(first.piper_say("hold on", 0.75, "mild", random.Random(8)), take)


def test_weak_lips_on_the_sound_keep_its_length_and_stay_finite():
    rng = np.random.default_rng(0)
    x = (np.sin(np.arange(16000) / 5) * (np.arange(16000) > 4000)).astype(np.float32)
    for severity in palsy.SEVERITIES:
        y = palsy.palsy_sound(x, 16000, severity, rng)
        assert y.shape == x.shape and np.isfinite(y).all() and np.abs(y[4000:4200]).max() < np.abs(x[4000:4200]).max()


def test_an_everyday_microphone_keeps_the_clip_and_puts_hiss_where_synthesis_left_silence():
    from command_corpus import noisy

    from voice_guide.audio import Audio

    t = np.arange(16000) / 16000
    clip = Audio(np.concatenate([np.zeros(8000), 0.5 * np.sin(2 * np.pi * 300 * t[:8000])]).astype(np.float32), 16000)
    heard = noisy(clip, "mic", 1000)
    assert len(heard.samples) == len(clip.samples) and heard.rate == clip.rate
    assert np.all(np.isfinite(heard.samples)) and np.max(np.abs(heard.samples)) <= 1.0
    silence, speech = np.std(heard.samples[:8000]), np.std(heard.samples[8000:])
    assert 0 < silence < speech / 3
    assert np.array_equal(noisy(clip, "mic", 1000).samples, heard.samples)
    assert not np.array_equal(noisy(clip, "mic", 1001).samples, heard.samples)


def test_a_cut_clip_keeps_its_sound_and_little_of_the_quiet_around_it():
    from command_corpus import CUT_INTO, CUT_ROOM, noisy

    from voice_guide.audio import Audio

    rate, t = 16000, np.arange(4800) / 16000
    word = 0.5 * np.sin(2 * np.pi * 300 * t)
    clip = Audio(np.concatenate([np.zeros(rate), word, np.zeros(rate)]).astype(np.float32), rate)
    for seed in range(40):
        heard = noisy(clip, "cut", seed)
        assert heard.rate == rate and np.all(np.isfinite(heard.samples)) and np.max(np.abs(heard.samples)) <= 1.0
        room = len(heard.samples) / rate - len(word) / rate
        assert -2 * CUT_INTO[1] - 0.02 <= room <= 2 * CUT_ROOM[1] + 0.04
    assert np.array_equal(noisy(clip, "cut", 3).samples, noisy(clip, "cut", 3).samples)


def test_no_held_out_voice_is_ever_used_for_training():
    held = {v.name for v in VOICES if v.split == "heldout"}
    assert {"af_sarah", "am_liam", "bf_isabella", "bm_daniel", "en-us+m6", "en-gb-scotland+Annie"} <= held
    clips = corpus.plan_training(LABELS, VOICES, seed=1, scale=0.5, negatives=False)
    trained = {c.voice.name for c in clips if c.voice}
    assert not trained & held and all(c.split == "train" for c in clips)
    for voice in trained:
        assert not set(voice.split("@")[0].split("+")) & set(corpus_voices.KOKORO_HELDOUT), voice
        assert "Annie" not in voice and "m6" not in voice
    heldout = corpus.plan_heldout(LABELS, VOICES, seed=1, scale=1.0, negatives=False)
    assert {c.voice.name for c in heldout if c.voice} <= held and all(c.split == "heldout" for c in heldout)


def test_held_out_room_talk_is_never_training_talk():
    assert not set(corpus_text.chatter("heldout")) & set(corpus_text.chatter("train"))
    assert not set(corpus_text.near_misses("heldout")) & set(corpus_text.near_misses("train"))


@pytest.mark.slow
def test_negatives_and_rows_carry_the_phrase_its_meaning_and_how_it_was_made():
    """Slow: the guide's own sentences are found by reading and matching the whole library."""
    assert not set(corpus_text.guide_lines("heldout")) & set(corpus_text.guide_lines("train"))
    clips = corpus.plan_training(LABELS, VOICES, seed=1, scale=1.0, negatives=True)
    rows = [c.row() for c in clips]
    assert all(list(r) == corpus.COLUMNS for r in rows)
    said = [r for r in rows if r["kind"] == "command"]
    assert {r["command"] for r in said} == set(LABELS)
    assert all(r["transcript"] in LABELS[r["command"]] for r in said)
    assert {r["transcript"] for r in said} == {p for ps in LABELS.values() for p in ps}
    assert {r["engine"] for r in said} == {"espeak", "piper", "kokoro"}
    others = [r for r in rows if r["kind"] == "not-a-command"]
    assert others and all(r["command"] == "" for r in others)
    assert any(r["condition"].startswith("palsy-moderate") for r in said)
    assert len({r["file"] for r in rows}) == len(rows)
    assert rows == [c.row() for c in corpus.plan_training(LABELS, VOICES, seed=1, scale=1.0, negatives=True)]


def test_every_meaning_gets_a_balanced_share_and_every_word_said_alone_at_least_a_few_takes():
    clips = corpus.plan_training(LABELS, VOICES, seed=2, scale=1.0, negatives=False)
    counts = {label: sum(c.command == label for c in clips) for label in LABELS}
    assert set(counts.values()) == {corpus.PER_LABEL[0]}
    many = {"stop": ["stop"] + [f"stop number {n}" for n in range(30)]}
    said = [c.transcript for c in corpus.plan_training(many, VOICES, seed=2, scale=1.0, negatives=True)]
    assert said.count("stop") == corpus.SHORT_WORDS > said.count("stop number 7")
    assert min(said.count(w) for w in corpus_text.near_misses("train") if " " not in w) == corpus.SHORT_WORDS


@pytest.mark.slow
def test_held_out_sets_are_weak_lips_mild_and_moderate_and_the_same_takes_clean_and_at_12_db():
    clips = corpus.plan_heldout(LABELS, VOICES, seed=1, scale=1.0, negatives=True)
    sets = {name: [c for c in clips if name in c.sets] for name in
            ("heldout-palsy", "heldout-clean", "heldout-noisy12", "heldout-chatter")}
    assert {c.severity for c in sets["heldout-palsy"]} == {"mild", "moderate"}
    assert any(c.kind == "not-a-command" for c in sets["heldout-palsy"])
    assert all(c.severity is None and c.noise is None for c in sets["heldout-clean"])
    assert [c.file for c in sets["heldout-clean"]] == [c.take for c in sets["heldout-noisy12"]]
    assert [(c.transcript, c.voice) for c in sets["heldout-clean"]] == \
        [(c.transcript, c.voice) for c in sets["heldout-noisy12"]]
    assert all(c.noise[1] == 12 for c in sets["heldout-noisy12"])
    assert all(c.kind == "not-a-command" for c in sets["heldout-chatter"])


def test_a_phrase_that_is_not_in_the_vocabulary_is_refused():
    with pytest.raises(ValueError, match="'the weather' is not a command"):
        corpus.labelled_phrases(["next", "the weather"])


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng is not installed")
def test_a_tiny_corpus_end_to_end(tmp_path):
    import eval_commands
    import soundfile as sf

    from voice_guide.understanding.vocabulary import build_vocabulary

    out = tmp_path / "corpus"
    assert corpus.main(["--out", str(out), "--quick", "--engines", "espeak", "--jobs", "1",
                        "--phrases", "next", "hold on"]) == 0
    rows = list(csv.DictReader(open(out / "manifest.csv", encoding="utf-8")))
    assert rows and set(rows[0]) == set(corpus.COLUMNS)
    for r in rows[:: max(1, len(rows) // 20)]:
        data, rate = sf.read(out / r["file"])
        assert rate == 16000 and data.ndim == 1 and 0.3 < len(data) / rate < 15 and np.abs(data).max() > 0.01
    assert {r["split"] for r in rows} == {"train", "heldout"}
    card = (out / "datacard.md").read_text(encoding="utf-8")
    assert "## Sources and licences" in card
    assert "(engines espeak, scale 1.0, quick, 2 phrases only) on " in card  # how it was narrowed, to redo it
    clips = eval_commands.read_manifest(out / "heldout-clean.csv", build_vocabulary())
    assert clips and all(c.expected is not None and c.expected.id in ("next", "pause") for c in clips)
    palsy_rows = list(csv.DictReader(open(out / "heldout-palsy.csv", encoding="utf-8")))
    assert {r["condition"].split("+")[0] for r in palsy_rows if r["kind"] == "command"} == {"palsy-mild", "palsy-moderate"}


def test_a_weak_lips_corpus_draws_a_speaker_for_each_clip_and_never_a_held_out_one():
    weak = corpus.KINDS["weak-lips"]
    clips = corpus.plan_training(LABELS, VOICES, seed=1, scale=1.0, negatives=False, kind=weak)
    speakers = [c.voice.name for c in clips if c.voice.engine != "piper"]
    assert len(set(speakers)) > 0.8 * len(speakers)
    held = set(corpus_voices.KOKORO_HELDOUT) | {"Annie", "m6"}
    assert all(not set(s.split("@")[0].split("+")) & held for s in speakers)
    assert all(c.split == "train" for c in clips)
    weak_share = sum(c.severity is not None for c in clips) / len(clips)
    standard = corpus.plan_training(LABELS, VOICES, seed=1, scale=1.0, negatives=False)
    assert weak_share > sum(c.severity is not None for c in standard) / len(standard)
    assert corpus.plan_training(LABELS, VOICES, seed=1, scale=1.0, negatives=False, kind=weak) == clips


@pytest.mark.slow
def test_room_talk_with_a_command_word_is_training_talk_the_matcher_does_not_act_on():
    """Slow: the library is read and matched."""
    from voice_guide.content.loader import load_library
    from voice_guide.understanding.matching import match
    from voice_guide.understanding.vocabulary import build_vocabulary

    vocab = build_vocabulary(load_library().items)
    assert all(match(t, vocab).decision in ("none", "reprompt") for t in corpus_text.NEAR_TALK)
    assert not set(corpus_text.NEAR_TALK) & set(corpus_text.chatter("heldout"))
    talk = corpus.plan_training(LABELS, VOICES, seed=1, scale=0.5, negatives=True, kind=corpus.KINDS["weak-lips"])
    said = {c.transcript for c in talk if c.kind == "not-a-command"}
    assert set(corpus_text.NEAR_TALK) <= said
    standard = corpus.plan_training(LABELS, VOICES, seed=1, scale=1.0, negatives=True)
    assert not set(corpus_text.NEAR_TALK) & {c.transcript for c in standard}

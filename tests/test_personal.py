"""The personal model joined to the recogniser: an enrolled speaker is understood when the recogniser
fails, non-commands stay rejected, disagreements are asked, and the switch acts without words."""

import numpy as np
import pytest

from voice_guide.hearing.features import utterance_features
from voice_guide.understanding.matching import Command, Match
from voice_guide.understanding.vocabulary import build_vocabulary
from voice_guide.voice.personal import PersonalModel, voice_dir
from voice_guide.hearing.switch import SwitchProfile, measure
from voice_guide.voice.templates import TemplateSet
from voice_guide.testing import ScriptedRecognizer
from voice_guide.understanding.understand import Understander

from degraded_speaker import COMMANDS, OTHER_WORDS, hum, take, tongue_click

HELD_OUT = range(10, 13)


@pytest.fixture(scope="module")
def templates() -> TemplateSet:
    t = TemplateSet()
    for word in COMMANDS:
        t.replace(word, [utterance_features(take(word, i)) for i in range(3)])
    return t


@pytest.fixture(scope="module")
def model(templates) -> PersonalModel:
    return PersonalModel(templates)


@pytest.fixture(scope="module")
def vocab():
    return build_vocabulary()


def decide(model, vocab, audio):
    heard = Understander(ScriptedRecognizer([]), vocab, personal=model).understand(audio)
    return heard.match, heard.path


@pytest.mark.slow
def test_enrolled_speaker_is_understood_where_the_recogniser_fails(model, vocab):
    takes = [(w, take(w, i, held_out=True)) for w in COMMANDS for i in HELD_OUT]
    without = [decide(None, vocab, a)[0] for _, a in takes]
    assert all(m.decision == "none" for m in without)
    results = [(w, *decide(model, vocab, a)) for w, a in takes]
    right = [w for w, m, path in results if m.decision == "act" and m.command == Command(w) and path == "template"]
    wrong = [(w, m.command) for w, m, _ in results if m.decision == "act" and m.command != Command(w)]
    assert len(right) >= 0.6 * len(takes), results
    assert len(wrong) <= 1, wrong


@pytest.mark.slow
def test_other_words_are_still_rejected(model, vocab):
    accepted = [w for w in OTHER_WORDS if decide(model, vocab, take(w, 0, held_out=True))[0].decision != "none"]
    assert len(accepted) <= 1, accepted


def act(word):
    return Match(Command(word), 0.9, "act", heard=word)


PAUSE, NEXT, YES, NO = (Command(w) for w in ("pause", "next", "yes", "no"))
NONE = Match(None, 0.0, "none")


@pytest.mark.parametrize("said, match, decision, command, alternatives, path", [
    ("pause", act("pause"), "act", PAUSE, (), "recogniser"),
    ("pause", act("next"), "act", PAUSE, (), "template"),
    ("pause", act("menu"), "ask", Command("menu"), (Command("menu"), PAUSE), "template"),
    ("pause", Match(PAUSE, 0.7, "ask", (NEXT, PAUSE), "pa"), "act", PAUSE, (), "template"),
    ("pause", Match(YES, 0.7, "ask", (YES, NO), "yo"), "ask", PAUSE, (PAUSE, YES), "template"),
    ("kitchen", act("yes"), "reprompt", YES, (YES,), "template"),
    ("music", act("faster"), "act", Command("faster"), (), "recogniser"),
    ("pause", NONE, "act", PAUSE, (), "template"),
    ("pause", Match(NEXT, 0.6, "reprompt", (NEXT,), "ne"), "act", PAUSE, (), "template"),
    ("water", NONE, "none", None, (), "recogniser"),
    ("water", act("stop"), "reprompt", Command("stop"), (Command("stop"),), "template"),
    ("music", Match(NEXT, 0.6, "reprompt", (NEXT,), "mu"), "reprompt", NEXT, (NEXT,), "recogniser"),
])
def test_the_refine_rule(model, said, match, decision, command, alternatives, path):
    audio = take(said, 1) if said in COMMANDS else take(said, 0, held_out=True)
    result, how = model.refine(audio, [], match)
    assert (result.decision, result.command, result.alternatives, how) == (decision, command, alternatives, path)
    assert model.last.path == how


def test_an_empty_model_changes_nothing(vocab):
    model = PersonalModel()
    assert not model.active and model.enrolled == []
    match = act("next")
    assert model.refine(take("pause", 0), [], match) == (match, "recogniser")


@pytest.mark.parametrize("action", ["toggle", "pause"])
def test_the_switch_acts_without_words(action):
    """The switch says its action; the session resolves "toggle" (pause, or resume when paused)."""
    model = PersonalModel(None, SwitchProfile("hum", action, True))
    result, how = model.refine(hum(3), [], NONE)
    assert (result.decision, result.command, how) == ("act", Command(action), "switch")
    result, how = model.refine(take("next", 1), [], NONE)
    assert how != "switch"


def test_a_switch_that_is_off_is_ignored(templates):
    model = PersonalModel(TemplateSet(takes={"next": templates.takes["next"]}), SwitchProfile("hum", "toggle", False))
    assert model.refine(hum(3), [], NONE) == (NONE, "recogniser")


def test_clicks_are_caught_in_the_raw_blocks():
    model = PersonalModel(switch=SwitchProfile("click", "toggle", True))
    rng = np.random.default_rng(0)
    x = np.concatenate([np.zeros(8000), tongue_click(5).samples, np.zeros(8000)])
    x = (x + rng.standard_normal(len(x)) * 1e-3).astype(np.float32)
    blocks = x[: len(x) // 1600 * 1600].reshape(-1, 1600)
    found = [m for b in blocks if (m := model.watch(b, 16000)) is not None]
    assert [(m.decision, m.command) for m in found] == [("act", Command("toggle"))]
    assert PersonalModel(switch=SwitchProfile("hum", "toggle", True)).watch(blocks[0], 16000) is None


def test_load_reads_the_voice_folder_and_sets_damaged_files_aside(tmp_path, templates):
    assert not PersonalModel.load(tmp_path).active
    folder = voice_dir(tmp_path)
    templates.save(folder / "templates.npz")
    SwitchProfile("hum", "pause", True, [measure(hum(1))]).save(folder / "switch.json")
    model = PersonalModel.load(tmp_path)
    assert model.enrolled == sorted(COMMANDS) and model.switch.kind == "hum" and model.notice == ""
    (folder / "templates.npz").write_bytes(b"garbage")
    model = PersonalModel.load(tmp_path)
    assert model.enrolled == [] and model.switch.enabled
    assert "enroll" in model.notice
    assert [p.name.startswith("templates.npz.bad-") for p in folder.iterdir() if p.name != "switch.json"] == [True]


def test_load_defaults_to_the_users_data_folder(guide_home, templates):
    templates.save(guide_home / "data" / "voice" / "templates.npz")
    assert PersonalModel.load().enrolled == sorted(COMMANDS)


class Once:
    """Decodes each utterance once, so that the same guesses are judged with and without templates."""

    def __init__(self, inner):
        self.inner, self.name, self.seen = inner, inner.name, {}

    def decode(self, audio):
        key = id(audio)
        if key not in self.seen:
            self.seen[key] = (audio, self.inner.decode(audio))
        return self.seen[key][1]


@pytest.mark.slow
def test_with_the_real_recogniser_enrolment_understands_more_and_accepts_no_more(model):
    from voice_guide.content.loader import load_library
    from voice_guide.engine_table import open_recognizer
    from voice_guide.settings import Settings

    vocab = build_vocabulary(load_library().items)
    rec = Once(open_recognizer(Settings(recogniser="pocketsphinx"), vocab.phrases()))
    commands = [(w, take(w, 20, held_out=True)) for w in COMMANDS]
    others = [(w, take(w, 20, held_out=True)) for w in OTHER_WORDS[::2]]
    scores = {}
    for label, personal in (("plain", None), ("enrolled", model)):
        und = Understander(rec, vocab, personal)
        right = sum(und.understand(a).match.command == Command(w) and und.understand(a).match.decision == "act"
                    for w, a in commands)
        accepted = sum(und.understand(a).match.decision == "act" for _, a in others)
        scores[label] = (right, accepted)
    assert scores["enrolled"][0] >= scores["plain"][0] + 4, scores
    assert scores["enrolled"][1] <= scores["plain"][1], scores

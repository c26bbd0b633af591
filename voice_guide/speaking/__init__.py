"""Speaking: choosing the voice, rendering text and cues to sound, and playing it in turn (or as text)."""

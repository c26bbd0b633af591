"""Speaking: choosing the voice and rendering text and cues to sound."""

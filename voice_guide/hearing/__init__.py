"""Hearing: microphone to decision (endpointing, echo, front end, recognisers, matching, the user's own voice)."""

"""Hearing: the signal (endpointing, echo, barge-in, the front end, the switch, acoustic features)."""

"""The live loop: the player, the listener, teaching from inside a run, the sound queue, look-ahead and the clock."""

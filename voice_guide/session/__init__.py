"""The session: the pure state machine that runs the guide (events in, actions out), its menu, keypad and words."""

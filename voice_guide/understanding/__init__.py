"""Understanding: from what a recogniser heard to one command (recognisers' glue, vocabulary, phrases, matching)."""

"""Export: the guide written out as tagged audio tracks, a playlist and chapters, checked once into a plan."""

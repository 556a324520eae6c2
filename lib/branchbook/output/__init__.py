"""What a run puts in front of readers: an executed report notebook read and checked
(:mod:`.inspect`), made into a self-contained page (:mod:`.html`) and its PDF
(:mod:`.pdf`), written whole (:mod:`.render`), and the index pages listing them all
(:mod:`.publish`)."""

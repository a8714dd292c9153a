"""Speaking and counting: render text to audio, schedule cues on absolute deadlines, play."""

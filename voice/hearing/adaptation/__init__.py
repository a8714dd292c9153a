"""Adapting PocketSphinx's acoustic model to what the coach's front end gives it (MLLR).

The built-in US-English model was trained on clean read speech. The coach's decoder hears
something else: far-field voices after RNNoise, often with a kitchen left under them. One
global MLLR transform (per feature stream, means and variance scales; the only kind
PocketSphinx 5 applies) moves the model's Gaussians towards that sound.

The statistics come from labelled recordings decoded by the engine itself: each recording
the engine gets right gives its word sequence; PocketSphinx aligns those words to the audio
the decoder saw, frame by frame to senones; each frame's Gaussian posteriors (within its
senone's codebook, weighted by that senone's mixture weights) are accumulated against the
exact features PocketSphinx computes (its own front end, called through ctypes).
"""

"""The benchmark suite behind `stretch-coach bench` (issue 6).

Every figure in docs/BENCHMARKS.md comes from here, with the command that made it. Audio is
synthesized at bench time (espeak-ng, flite) and cached under `.bench/`; nothing generated is
committed. Figures depend on the machine: nothing here asserts speed.
"""

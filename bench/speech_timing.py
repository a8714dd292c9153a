"""Speech timing benchmark: `python -m bench.speech_timing --help` (code in voice.speech)."""

from voice.speech.timing_bench import main

if __name__ == "__main__":
    raise SystemExit(main())

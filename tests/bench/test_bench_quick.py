"""Smoke test of the benchmark suite: `bench --quick` runs end to end and writes a report.

Never asserts speed or accuracy (those are figures, not tests): only that every section ran,
the report has them with their commands, and sections by other suites are carried over.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from voice.cli import main

pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("espeak-ng", "flite", "sox")),
    reason="bench needs espeak-ng, flite and sox (scripts/system-deps.sh)",
)

CARRIED = """# Benchmarks

Old preamble that the generator replaces.

## HTTP service

Hand-written figures from another suite.

```
## not a heading inside code
```

## Soak

Also carried over.
"""


def test_bench_quick_writes_report(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text(CARRIED, encoding="utf-8")
    code = main(
        ["bench", "--quick", "--out", str(out), "--cache", str(tmp_path / "cache"), "--jobs", "1"]
    )
    assert code == 0
    text = out.read_text(encoding="utf-8")
    assert "Old preamble" not in text
    for heading in (
        "## Targets (issue 6)",
        "## Commands: acceptance rate, synthetic held-out voices",
        "## False activations",
        "## Latency",
        "## Cost while listening, start-up",
    ):
        assert heading in text
    assert "stretch-coach bench --only commands" in text
    assert "--quick" in text
    # Other suites' sections survive verbatim, code blocks included.
    assert "## HTTP service\n\nHand-written figures from another suite.\n\n```\n## not a" in text
    assert "## Soak\n\nAlso carried over." in text
    assert text.index("## Targets") < text.index("## HTTP service")


def test_split_sections_ignores_headings_in_code() -> None:
    from voice.bench.report import assemble, split_sections

    pre, blocks = split_sections(CARRIED)
    assert [t for t, _ in blocks] == ["HTTP service", "Soak"]
    assert "Old preamble" in pre
    text = assemble(CARRIED, "# Benchmarks\n\nnew header", {})
    assert text.startswith("# Benchmarks\n\nnew header\n\n## HTTP service")


def test_a_barista_section_carried_over_shows_no_rhino_figure_for_clean() -> None:
    """Results saved with null come back as NaN; the clean row has no Rhino figure."""
    from voice.bench.report import barista_section, targets_section
    from voice.bench.runner import _restore

    row = {"total": 296, "rate": 0.98, "cpu_per_audio_s": 0.02}
    saved = {
        "rows": [
            {**row, "condition": "clean", "rhino": None},
            {**row, "condition": "6 dB", "rhino": 0.96},
        ],
        "commands": [],
    }
    barista = _restore(saved)
    assert "nan" not in barista_section(barista, "")
    targets = targets_section({"barista": barista}, "")
    assert "6 dB 98.0% vs 96%" in targets and "clean" not in targets

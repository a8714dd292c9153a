"""The coach's content: stretches, routines, FAQ, responses and sentence templates.

The data lives in YAML under content/<language>/; this package loads it once into frozen
objects (content.model) and cross-checks it (content.check).
"""

from pathlib import Path

CONTENT_ROOT = Path(__file__).resolve().parent
DEFAULT_LANGUAGE = "en"


def default_dir(language: str = DEFAULT_LANGUAGE) -> Path:
    return CONTENT_ROOT / language

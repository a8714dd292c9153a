"""`stretch-coach models list|download NAME|path`: Vosk models, never fetched implicitly."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    from voice.hearing.models import DEFAULT_MODEL

    p = subparsers.add_parser(
        "models",
        help="list, download or locate Vosk speech models",
        description="PocketSphinx needs no model download; Vosk is used when a model is here.",
    )
    sub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="installed models (and, with --remote, downloadable ones)")
    ls.add_argument("--remote", action="store_true", help="also list the official catalogue")
    ls.set_defaults(func=run)
    dl = sub.add_parser("download", help="download, verify and unpack a model")
    dl.add_argument(
        "name", nargs="?", default=DEFAULT_MODEL, help="model name (default %(default)s)"
    )
    dl.set_defaults(func=run)
    path = sub.add_parser("path", help="print the directory models are kept in")
    path.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from voice.errors import UserError
    from voice.hearing import models

    try:
        if args.models_command == "path":
            print(models.models_dir())
        elif args.models_command == "list":
            installed = models.installed_models()
            for m in installed:
                print(f"{m.name}\t{m.path}\t({m.source})")
            if not installed:
                print(f"no Vosk model installed in {models.models_dir()} (PocketSphinx is used)")
            if args.remote:
                for r in models.remote_models():
                    print(f"{r.name}\t{r.lang}\t{r.size / 1e6:.0f} MB\t(remote)")
        elif args.models_command == "download":
            target = models.download(args.name)
            print(target)
    except models.ModelError as err:
        raise UserError(str(err)) from err
    return 0

"""`stretch-coach devices`: list audio devices (inputs for listening, outputs for speech)."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("devices", help="list audio input and output devices")
    p.add_argument("--json", action="store_true", help="one JSON object per device")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from voice.errors import UserError
    from voice.hearing.microphone import NoMicrophone, list_devices

    try:
        devices = list_devices()
    except NoMicrophone as err:
        raise UserError(str(err)) from err
    if not devices:
        raise UserError("no audio devices found")
    for d in devices:
        if args.json:
            print(json.dumps(d.to_dict()))
            continue
        marks = ("<" if d.is_default_input else " ") + (">" if d.is_default_output else " ")
        print(
            f"{marks} {d.index:>3}  {d.name}  (in {d.inputs}, out {d.outputs}, "
            f"{d.default_rate:.0f} Hz)"
        )
    if not args.json:
        print("< default input   > default output")
    return 0

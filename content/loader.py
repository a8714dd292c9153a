"""Loads content/<language>/ into a frozen Content, or raises ContentError with every problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from content import default_dir
from content.errors import ContentError, Problem
from content.fields import Fields
from content.model import SIDES_BOTH, Content, FaqEntry, Routine, RoutineItem, Stretch, Timing

MAX_FILE_BYTES = 1_000_000  # far above any real content file; guards against a runaway file
CONTENT_FILES = ("stretches.yaml", "routines.yaml", "faq.yaml", "responses.yaml")
NO_ANCHORS = "anchors and aliases are not allowed"


class _NoAliasLoader(yaml.SafeLoader):
    """safe_load without anchors and aliases: a few hundred bytes of nested aliases expand to
    hundreds of millions of nodes once walked (a "billion laughs"). The shipped content uses
    none. The first anchor or alias is recorded in `refused` (its line); every alias reads as
    null and no anchor is registered, so nothing is ever expanded and the rest of the file is
    still checked."""

    refused: int | None = None

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            if self.refused is None:
                self.refused = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent):
                self.get_event()  # type: ignore[no-untyped-call]
                start: Any = event.start_mark
                return yaml.ScalarNode("tag:yaml.org,2002:null", "", start, start)
            event.anchor = None
        return super().compose_node(parent, index)


def parse_yaml(text: str, name: str, problems: list[Problem]) -> Any:
    """YAML text -> data, with anchors and aliases refused; failures become problems."""
    loader = _NoAliasLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.append(Problem(name, where, f"invalid YAML: {reason}"))
        return None
    except RecursionError:
        problems.append(Problem(name, "", "invalid YAML: nested too deeply"))
        return None
    finally:
        loader.dispose()
    if loader.refused is not None:
        problems.append(Problem(name, f"line {loader.refused}", NO_ANCHORS))
    return data


def read_yaml(path: Path, problems: list[Problem]) -> Any:
    """Parse one YAML file safely; on a failure to read or parse it record one problem and
    return None. Anchors and aliases are recorded as a problem too (see _NoAliasLoader), but
    the data is still returned, with every alias as None, so the rest of it can be checked."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            problems.append(
                Problem(name, "", f"file is {size} bytes, over the {MAX_FILE_BYTES} limit")
            )
            return None
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        problems.append(Problem(name, "", "file is missing"))
        return None
    except UnicodeDecodeError as exc:
        problems.append(Problem(name, "", f"not valid UTF-8 (byte {exc.start})"))
        return None
    except OSError as exc:
        problems.append(Problem(name, "", f"cannot read: {exc.strerror}"))
        return None
    return parse_yaml(text, name, problems)


def load_content(directory: Path | None = None) -> Content:
    directory = Path(directory) if directory else default_dir()
    if not directory.is_dir():
        raise ContentError([Problem(str(directory), "", "content directory does not exist")])
    problems: list[Problem] = []
    readers = {name: Fields(str(directory / name)) for name in CONTENT_FILES}
    # Each file's read problems go to its own reader, so "file is empty" is not said of a
    # file that is missing or unreadable.
    raw = {name: read_yaml(directory / name, readers[name].problems) for name in CONTENT_FILES}
    stretches = _stretches(raw["stretches.yaml"], readers["stretches.yaml"])
    routines, timing = _routines(raw["routines.yaml"], readers["routines.yaml"], stretches)
    faq = _faq(raw["faq.yaml"], readers["faq.yaml"])
    responses = _responses(raw["responses.yaml"], readers["responses.yaml"])
    for reader in readers.values():
        problems.extend(reader.problems)
    sentence_files = tuple(sorted((directory / "sentences").glob("*.yaml")))
    test_files = tuple(sorted((directory / "tests").glob("*.yaml")))
    if not sentence_files:
        problems.append(Problem(str(directory / "sentences"), "", "no sentence files"))
    if problems:
        raise ContentError(problems)
    return Content(
        language=directory.name,
        directory=directory,
        stretches=stretches,
        routines=routines,
        timing=timing,
        faq=faq,
        responses=responses,
        sentence_files=sentence_files,
        test_files=test_files,
    )


def _top_list(data: Any, key: str, f: Fields) -> list[Any]:
    if data is None and not f.problems:
        f.problem("", "file is empty")
    top = f.mapping(data, "") if data is not None else {}
    f.unknown_keys(top, {key}, "")
    return f.items(top, key, "") if top else []


def _stretches(data: Any, f: Fields) -> dict[str, Stretch]:
    out: dict[str, Stretch] = {}
    allowed = {
        "id",
        "name",
        "aliases",
        "position",
        "steps",
        "hold_seconds",
        "sides",
        "side_lines",
        "benefits",
        "cautions",
    }
    for i, item in enumerate(_top_list(data, "stretches", f)):
        path = f"stretches[{i}]"
        d = f.mapping(item, path)
        if not d:
            continue
        f.unknown_keys(d, allowed, path)
        sid = f.ident(d, "id", path)
        if sid in out:
            f.problem(f"{path}.id", f"duplicate id {sid!r}")
        sides = _sides(d, path, f)
        side_lines = _side_lines(d, path, sides, f)
        hold = f.seconds(d, "hold_seconds", path, 30) or 30
        out[sid] = Stretch(
            id=sid,
            name=f.text(d, "name", path),
            aliases=tuple(f.texts(d, "aliases", path, required=False)),
            position=f.text(d, "position", path),
            steps=tuple(f.texts(d, "steps", path)),
            hold_seconds=hold,
            sides=sides,
            side_lines=side_lines,
            benefits=f.text(d, "benefits", path),
            cautions=tuple(f.texts(d, "cautions", path, required=False)),
        )
    return out


def _sides(d: dict[str, Any], path: str, f: Fields) -> tuple[str, ...]:
    value = d.get("sides", "both")
    if value == "both":
        return SIDES_BOTH
    if value == "none":
        return ()
    f.problem(f"{path}.sides", f"expected 'both' or 'none', got {value!r}")
    return ()


def _side_lines(d: dict[str, Any], path: str, sides: tuple[str, ...], f: Fields) -> dict[str, str]:
    if not sides:
        if "side_lines" in d:
            f.problem(f"{path}.side_lines", "given for a stretch with sides: none")
        return {}
    lines = f.mapping(d.get("side_lines"), f"{path}.side_lines")
    return {side: f.text(lines, side, f"{path}.side_lines") for side in sides}


def _routines(
    data: Any, f: Fields, stretches: dict[str, Stretch]
) -> tuple[dict[str, Routine], Timing]:
    top = f.mapping(data, "") if data is not None else {}
    if data is None and not f.problems:
        f.problem("", "file is empty")
    f.unknown_keys(top, {"timing", "routines"}, "")
    timing = _timing(top.get("timing", {}), f)
    out: dict[str, Routine] = {}
    for i, item in enumerate(f.items(top, "routines", "") if top else []):
        path = f"routines[{i}]"
        d = f.mapping(item, path)
        if not d:
            continue
        f.unknown_keys(d, {"id", "name", "aliases", "stretches", "rest_seconds"}, path)
        rid = f.ident(d, "id", path)
        if rid in out:
            f.problem(f"{path}.id", f"duplicate id {rid!r}")
        items = tuple(_routine_items(d, path, f, stretches))
        out[rid] = Routine(
            id=rid,
            name=f.text(d, "name", path),
            aliases=tuple(f.texts(d, "aliases", path, required=False)),
            items=items,
            rest_seconds=f.seconds(d, "rest_seconds", path, None),
        )
    return out, timing


def _routine_items(
    d: dict[str, Any], path: str, f: Fields, stretches: dict[str, Stretch]
) -> list[RoutineItem]:
    items: list[RoutineItem] = []
    for j, entry in enumerate(f.items(d, "stretches", path)):
        where = f"{path}.stretches[{j}]"
        e = f.mapping(entry, where)
        if not e:
            continue
        f.unknown_keys(e, {"stretch", "hold_seconds", "rest_seconds"}, where)
        sid = f.text(e, "stretch", where)
        if sid and stretches and sid not in stretches:
            f.problem(f"{where}.stretch", f"unknown stretch id {sid!r}")
        hold = f.seconds(e, "hold_seconds", where, None)
        rest = f.seconds(e, "rest_seconds", where, None)
        items.append(RoutineItem(sid, hold, rest))
    return items


def _timing(data: Any, f: Fields) -> Timing:
    d = f.mapping(data, "timing")
    f.unknown_keys(
        d, {"hold_seconds", "rest_seconds", "switch_seconds", "step_pause_seconds"}, "timing"
    )
    base = Timing()
    return Timing(
        hold_seconds=f.seconds(d, "hold_seconds", "timing", base.hold_seconds) or base.hold_seconds,
        rest_seconds=f.seconds(d, "rest_seconds", "timing", base.rest_seconds) or base.rest_seconds,
        switch_seconds=f.seconds(d, "switch_seconds", "timing", base.switch_seconds)
        or base.switch_seconds,
        step_pause_seconds=f.seconds(d, "step_pause_seconds", "timing", base.step_pause_seconds)
        or base.step_pause_seconds,
    )


def _faq(data: Any, f: Fields) -> dict[str, FaqEntry]:
    out: dict[str, FaqEntry] = {}
    seen_topics: dict[str, str] = {}
    for i, item in enumerate(_top_list(data, "faq", f)):
        path = f"faq[{i}]"
        d = f.mapping(item, path)
        if not d:
            continue
        f.unknown_keys(d, {"id", "topics", "questions", "answer"}, path)
        fid = f.ident(d, "id", path)
        if fid in out:
            f.problem(f"{path}.id", f"duplicate id {fid!r}")
        topics = tuple(t.lower() for t in f.texts(d, "topics", path))
        for topic in topics:
            if topic in seen_topics:
                f.problem(
                    f"{path}.topics", f"topic {topic!r} is also used by {seen_topics[topic]!r}"
                )
            seen_topics[topic] = fid
        out[fid] = FaqEntry(
            fid, topics, tuple(f.texts(d, "questions", path)), f.text(d, "answer", path)
        )
    return out


def _responses(data: Any, f: Fields) -> dict[str, tuple[str, ...]]:
    top = f.mapping(data, "") if data is not None else {}
    if data is None and not f.problems:
        f.problem("", "file is empty")
    f.unknown_keys(top, {"responses"}, "")
    table = f.mapping(top.get("responses"), "responses") if top else {}
    return {str(key): tuple(f.texts(table, key, "responses")) for key in table}

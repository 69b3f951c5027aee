"""The recorded workflow histories the replay tests run the current code against: one set per
released version (`histories/<version>/`, the version in pyproject.toml when it was recorded),
one file per workflow kind and path, `<kind>-<path>.json` (`checkout-paid.json`,
`checkout-payment-declined.json`). Written by `python -m tests.replay.record`
(tests/replay/recording.py); the format is the history's JSON as `WorkflowHistory.to_json()`
writes it (and as the Temporal UI and `temporal workflow show --output json` download it), one
event per line."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

HISTORIES = Path(__file__).parent / "histories"
PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"
CLOSED = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    }
)


def current_release() -> str:
    """The version being developed: pyproject.toml's `version` (the next set to record)."""
    with PYPROJECT.open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


def release_order(name: str) -> tuple[tuple[int, ...], str]:
    """Sets in release order: by the numbers in the name (`0.10.0` after `0.9.2`), then by name."""
    return tuple(int(part) for part in re.findall(r"\d+", name)), name


def workflow_type(history: WorkflowHistory) -> str:
    started = history.events[0].workflow_execution_started_event_attributes
    return started.workflow_type.name


def kind_slug(workflow_type_name: str) -> str:
    """`LateBankPayment` → `late-bank-payment`: the first part of a history's file name."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", workflow_type_name).lower()


def is_closed(history: WorkflowHistory) -> bool:
    return bool(history.events) and history.events[-1].event_type in CLOSED


@dataclass(frozen=True)
class Recorded:
    path: Path
    history: WorkflowHistory

    @property
    def release(self) -> str:
        return self.path.parent.name

    @property
    def workflow_type(self) -> str:
        return workflow_type(self.history)

    def __str__(self) -> str:
        return f"{self.release}/{self.path.name}"


def write(history: WorkflowHistory, path: Path) -> None:
    """The history's JSON (`to_json_dict`, every field kept), one event per line: compact, and a
    re-recording shows in a diff event by event."""
    events = history.to_json_dict()["events"]
    lines = ",\n".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in events)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'{{"events":[\n{lines}\n]}}\n', encoding="utf-8")


def read(path: Path) -> Recorded:
    """A recorded history; its workflow id (not in the JSON) is named after the file."""
    workflow_id = f"replay-{path.parent.name}-{path.stem}"
    return Recorded(path, WorkflowHistory.from_json(workflow_id, path.read_text(encoding="utf-8")))


def every_recorded(root: Path = HISTORIES) -> list[Recorded]:
    """Every history of every set, oldest set first."""
    sets = sorted((d for d in root.iterdir() if d.is_dir()), key=lambda d: release_order(d.name))
    return [read(path) for folder in sets for path in sorted(folder.glob("*.json"))]


def newest_set(root: Path = HISTORIES) -> str:
    names = [d.name for d in root.iterdir() if d.is_dir() and any(d.glob("*.json"))]
    return max(names, key=release_order)

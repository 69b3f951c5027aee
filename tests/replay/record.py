"""Record the replay histories from real runs of every workflow kind:

    .venv/bin/python -m tests.replay.record [--release VERSION] [pytest options, e.g. -k checkout]

It runs the scenarios of tests/replay/recording.py (each a real path through the API: a migrated
SQLite database with the sample catalogue, the real activities, the courier and bank emulator
processes, a Temporal dev server and, where days must pass, the time-skipping test server) and
writes each finished run's history to tests/replay/histories/<VERSION>/<kind>-<path>.json
(VERSION: pyproject.toml's `version` unless given). Files of the same names are overwritten;
other sets are never touched. Then `pytest tests/replay` replays them all."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from tests.replay.recorded import current_release

RECORDING = Path(__file__).with_name("recording.py")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.replay.record", description=__doc__)
    parser.add_argument(
        "--release", default=current_release(), help="the set to write (default: %(default)s)"
    )
    known, rest = parser.parse_known_args(argv)
    return int(pytest.main([str(RECORDING), "--histories-release", known.release, *rest]))


if __name__ == "__main__":
    sys.exit(main())

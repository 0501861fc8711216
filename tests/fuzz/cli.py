"""Run ``paradec.cli.main(argv)`` in process and check how it fails."""

from __future__ import annotations

import contextlib
import io

from paradec.cli import main


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``paradec argv`` (argparse's SystemExit included)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()


def assert_usage_error(result: tuple[int, str, str], *phrases: str) -> str:
    """Exit code 2, no traceback, and a last stderr line ``paradec CMD: error: ...`` that
    contains every phrase. Returns that line."""
    code, _, err = result
    assert "Traceback" not in err, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert code == 2, (code, err)
    assert lines, "no message on stderr"
    last = lines[-1]
    assert last.startswith("paradec") and "error:" in last, last
    for phrase in phrases:
        assert phrase in last, (phrase, last)
    return last

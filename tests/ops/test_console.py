"""The ``streampath`` console script at its edges: ``--version``, no command, a closed stdout."""

from __future__ import annotations

from importlib import metadata

from tests.ops.conftest import STREAMPATH, clean_environ, run_streampath
from tests.support.pipes import assert_quiet_end, run_into_closed_pipe


def test_version_comes_from_the_installed_metadata() -> None:
    result = run_streampath(["--version"], {})
    assert (result.code, result.out, result.err) == (0, f"streampath {metadata.version('streampath')}\n", "")


def test_no_command_prints_the_usage() -> None:
    result = run_streampath([], {})
    assert result.code == 2 and result.out == ""
    assert result.err.startswith("usage: streampath [-h] [--version] COMMAND ...")
    assert "the following arguments are required: COMMAND" in result.err


def test_a_closed_stdout_ends_quietly() -> None:
    for argv in (["alb-fix"], ["alb-fix", "--idle-timeout", "600"], ["--version"]):
        assert_quiet_end(run_into_closed_pipe([str(STREAMPATH), *argv], env=clean_environ()))
    # argparse itself ignores a failed write of the help (and exits 0): still no traceback.
    assert_quiet_end(run_into_closed_pipe([str(STREAMPATH), "--help"], env=clean_environ()), status=0)

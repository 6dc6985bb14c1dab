"""The streamprobe command line (docs/contracts/probe-cli.md): ``streamprobe [probe] URL [options]``,
``streamprobe doctor URL [options]``, ``streamprobe trace [NAME=]URL ... [options]``,
``streamprobe load URL --concurrency N (--streams M | --duration S) [options]``, ``streamprobe --version``.

Each command is a module of :mod:`streamprobe.commands` listed in :data:`COMMANDS`; a first argument
that names no command is the URL of a probe. Exit status: 0 streaming, 1 partial/buffered/inconclusive,
2 error or usage error (message on stderr, no JSON). Header values given with --header are never printed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
from collections.abc import Sequence
from typing import Any, Final, NoReturn, Protocol

from .commands import doctor as doctor_command
from .commands import exporter as exporter_command
from .commands import load as load_command
from .commands import probe as probe_command
from .commands import trace as trace_command
from .console import VersionAction, run_console_script
from .exceptions import BrowserUnavailable
from .usage import UsageError


class Command(Protocol):
    """What a command module exposes (see :mod:`streamprobe.commands`)."""

    NAME: str
    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


#: The commands, in the order ``--help`` lists them; the first is the one a bare URL runs.
COMMANDS: Final[tuple[Command, ...]] = (
    probe_command,
    doctor_command,
    trace_command,
    exporter_command,
    load_command,
)
PROG: Final = "streamprobe"
SUMMARY: Final = "Measure whether a Server-Sent Events stream really streams: TTFB, first event, buffering."
EPILOG: Final = "exit status: 0 streaming; 1 partial, buffered or inconclusive; 2 an error or a usage error"
#: The top-level options: anything else first is a command's name or a probe's URL and options.
TOP_LEVEL_OPTIONS: Final = ("-h", "--help", "--version")


class _Parser(argparse.ArgumentParser):
    """A parser whose errors are :class:`UsageError` (printed by :func:`main` in one line), and which
    records its positional arguments for the synopsis of its command."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.positionals: list[argparse.Action] = []

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        if not action.option_strings:
            self.positionals.append(action)
        return action

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)

    def synopsis(self, *, short: bool = False) -> str:
        """The positional arguments as a usage line shows them (``short``: repetition as ``...``)."""
        return " ".join(_positional_synopsis(action, short=short) for action in self.positionals)


def _positional_synopsis(action: argparse.Action, *, short: bool) -> str:
    metavar = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
    if action.nargs == "+":
        return f"{metavar} ..." if short else f"{metavar} [{metavar} ...]"
    if action.nargs == "*":
        return f"[{metavar} ...]"
    if action.nargs == "?":
        return f"[{metavar}]"
    return metavar


def _label(command: Command, parser: _Parser, *, short: bool) -> str:
    name = f"[{command.NAME}]" if command is COMMANDS[0] and short else command.NAME
    return f"{name} {parser.synopsis(short=short)}".rstrip()


def _help_width() -> int:
    """The width argparse formats help for (the terminal's, less a margin), so the table matches it."""
    return max(shutil.get_terminal_size().columns - 2, 60)


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, _Parser]]:
    """The top-level parser (``--help``, ``--version``) and each command's parser by name."""
    top = _Parser(prog=PROG, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--version", action=VersionAction, distribution=PROG)
    subparsers = top.add_subparsers(dest="command", metavar="COMMAND", help=argparse.SUPPRESS)
    parsers: dict[str, _Parser] = {}
    for command in COMMANDS:
        parser = subparsers.add_parser(
            command.NAME,
            help=command.HELP,
            description=command.HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        assert isinstance(parser, _Parser)  # subparsers are made by the top-level parser's class
        parser.add_argument("--version", action=VersionAction, distribution=PROG)
        command.add_arguments(parser)
        parser.usage = f"{PROG} {_label(command, parser, short=False)} [options]"
        parsers[command.NAME] = parser
    default = COMMANDS[0]
    top.usage = "\n       ".join(
        [
            f"{PROG} {parsers[default.NAME].synopsis()} [options]",
            *(f"{PROG} {_label(c, parsers[c.NAME], short=False)} [options]" for c in COMMANDS[1:]),
            f"{PROG} --version",
        ]
    )
    labels = [(_label(c, parsers[c.NAME], short=True), c.HELP) for c in COMMANDS]
    width = max(len(label) for label, _ in labels) + 2
    rows = [
        textwrap.fill(
            help_,
            width=_help_width(),
            initial_indent=f"  {label:<{width}}",
            subsequent_indent=" " * (width + 2),
        )
        for label, help_ in labels
    ]
    top.description = "\n".join(
        [
            SUMMARY,
            "",
            "commands:",
            *rows,
            "",
            f"'{PROG} COMMAND --help' tells a command's options; a URL first means '{default.NAME}'.",
        ]
    )
    return top, parsers


def main(argv: Sequence[str] | None = None) -> int:
    return run_console_script(lambda: _main(list(sys.argv[1:] if argv is None else argv)))


def _main(argv: list[str]) -> int:
    top, parsers = build_parser()
    commands = {command.NAME: command for command in COMMANDS}
    if argv and argv[0] in TOP_LEVEL_OPTIONS:
        top.parse_args(argv)  # prints the help or the version and exits
    if argv and argv[0] in commands:
        name, rest, prog = argv[0], argv[1:], f"{PROG} {argv[0]}"
    else:  # `streamprobe URL ...`: a probe, told as before the commands existed
        name, rest, prog = COMMANDS[0].NAME, argv, PROG
    try:
        # Intermixed: a command's positionals and options in any order (trace's hops around --kind).
        args = parsers[name].parse_intermixed_args(rest)
        return commands[name].run(args)
    except BrowserUnavailable as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except (UsageError, ValueError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        print(f"usage: see '{parsers[name].prog} --help'", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

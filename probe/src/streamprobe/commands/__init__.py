"""The commands of ``streamprobe``, one module each.

A command module exposes ``NAME`` (the word after ``streamprobe``), ``HELP`` (one line for the command
list), ``add_arguments(parser)`` (its arguments; it may set ``parser.description`` and ``parser.epilog``)
and ``run(args) -> int`` (the exit status). ``streamprobe.cli.COMMANDS`` lists them: a new command is a
module here and one entry there. The request options common to every command that probes come from
:mod:`streamprobe.request_args`; a bad argument is a :class:`streamprobe.usage.UsageError`.
"""

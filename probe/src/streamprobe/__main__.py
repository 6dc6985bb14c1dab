"""``python -m streamprobe``: the same as the ``streamprobe`` command."""

import sys

from .cli import main

sys.exit(main())

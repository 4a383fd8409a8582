"""`python -m sigsentry_pulumi`: the `sigsentry-pulumi` command (see `cli`)."""

import sys

from .cli import main

sys.exit(main())

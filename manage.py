#!/usr/bin/env python
"""Django's command-line utility for Coding Desk."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coding_app.settings")
    from django.core.management import execute_from_command_line

    from coding_app.config import ConfigError

    try:
        execute_from_command_line(sys.argv)
    except ConfigError as error:
        # A bad environment is the operator's to fix: one line, no traceback.
        sys.stderr.write(f"Configuration error: {error}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()

"""The ``atende`` command: Django's management commands with Atende's settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.config.settings.prod")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["atende", *sys.argv[1:]])


if __name__ == "__main__":
    main()

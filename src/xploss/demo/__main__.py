"""``python -m xploss.demo``: see the package's docstring, or ``python -m xploss.demo --help``."""

import sys

from xploss.demo import main

if __name__ == "__main__":
    sys.exit(main())

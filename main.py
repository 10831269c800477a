"""Start the ADK Viewer GUI (same as the `adkviewer` command)."""

import sys

from adkviewer.cli import main

if __name__ == "__main__":
    sys.exit(main())

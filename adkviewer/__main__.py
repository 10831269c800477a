import sys

from adkviewer.cli import main

sys.exit(main())

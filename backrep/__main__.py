import sys

from backrep.cli import main

sys.exit(main())

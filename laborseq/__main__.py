"""``python -m laborseq`` runs the command line."""

import sys

from laborseq.cli import main

sys.exit(main())

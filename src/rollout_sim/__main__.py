"""``python -m rollout_sim``."""

import sys

from .cli import main

sys.exit(main())

"""``python -m coding_app.launcher``: the run command (``make run``)."""

import sys

from coding_app.launcher.run import main

sys.exit(main())

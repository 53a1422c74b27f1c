"""Imported by the workers' forkserver alone (isolation.PRELOAD), never by the host: it makes the
forkserver the subreaper of the workers, so that what an implementation starts in a session of its
own is re-parented to it and ended with the worker (see orphans.py)."""

import warnings

from harness.impl.orphans import become_subreaper

become_subreaper()
# The forkserver reaps adopted processes too, and would warn about each pid it did not fork.
warnings.filterwarnings("ignore", message="forkserver: waitpid returned unexpected pid")

import os
import sys

from harness.cli import main
from harness.shards import EXIT_AT_ONCE

status = main()
if os.environ.get(EXIT_AT_ONCE) == "1":
    # A shard process of -j: its report is written whole (report.write_atomic) and nothing else of it is
    # read; only its streams need flushing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
sys.exit(status)

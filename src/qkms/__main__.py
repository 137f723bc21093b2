"""`python -m qkms` is the `qkms` command."""

import sys

from qkms.cli import main

sys.exit(main())

"""``python -m paradec``: the paradec command (what ``torchrun -m paradec`` starts)."""

import sys

from paradec.cli import main

if __name__ == "__main__":
    sys.exit(main())

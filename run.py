#!/usr/bin/env python
"""Run the simulator from the command line; see ``python run.py --help``."""
import sys

from sim.cli import main

if __name__ == "__main__":
    sys.exit(main())

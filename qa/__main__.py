"""`python -m qa`: the command line (`qa/cli.py`)."""
from .cli import main

raise SystemExit(main())

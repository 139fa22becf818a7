"""python -m eddy_client: the eddy-client command."""
import sys

from .cli import main

sys.exit(main())

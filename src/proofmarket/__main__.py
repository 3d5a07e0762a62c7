"""``python -m proofmarket``: the same as the ``proofmarket`` command."""

from proofmarket.cli.main import main

main()

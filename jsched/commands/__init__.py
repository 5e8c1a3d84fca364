"""Sub-commands of the ``jsched`` CLI (one module each, see ``jsched.cli.COMMANDS``)."""

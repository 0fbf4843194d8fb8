"""The `closer` command: the one place that composes the skill, the speech path and the
skill package. ``skill/`` and ``speech/`` never import from here."""

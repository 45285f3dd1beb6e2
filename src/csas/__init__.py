"""csas: run a Community Safety Action Strategy end to end."""

__version__ = "0.1.0"

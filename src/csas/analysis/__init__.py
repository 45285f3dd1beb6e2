"""Django-free analysis library: pure functions returning frozen, documented result objects.

Never import Django here; pages, API and commands call into this package, not the reverse.
"""

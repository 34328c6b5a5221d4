"""Activities: one module per external system; their messages live in ``messages``."""

"""gradproof: checks documented derivatives against exact values, finite differences and autograd."""

__version__ = "0.1.0"

"""AYKA kernel: settings, the bus contract, the CLI and the embedded runtime."""

__version__ = "0.1.0"

"""Drive CoCalc (API v2) from Jupyter: IPython magics, widgets and a local API emulator."""

__version__ = "0.1.0"

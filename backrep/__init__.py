"""backrep: the application layer that wires the sensor bridge, the engine and the dashboard."""

__version__ = "0.1.0"

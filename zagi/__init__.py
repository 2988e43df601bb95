"""zagi: version control that includes the environment."""

__version__ = "0.1.0"

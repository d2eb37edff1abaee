"""audioguide: turn a written patient-information guide into an accessible French audio guide."""

__version__ = "0.1.0"

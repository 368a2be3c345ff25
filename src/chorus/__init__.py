"""chorus: a messaging service laid out as a theatre of acts, scenes and tasks."""

__title__ = "chorus"
__version__ = "0.1.0"

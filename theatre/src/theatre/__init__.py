"""theatre: keeps a project in the theatre layout honest (``theatre check``) and draws it (``theatre map``)."""

__version__ = "0.1.0"

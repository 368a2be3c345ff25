"""theatre: starts projects in the theatre layout (``theatre new``), grows them (``theatre act add``), keeps them
honest (``theatre check``), draws them (``theatre map``) and brings template changes in (``theatre update``)."""

__version__ = "0.2.1"

"""theatre: keeps a project in the theatre layout honest (``theatre check``) and draws it (``theatre map``).

Kept free of imports: ``theatre.probes.inside`` runs inside the project's own processes and must load nothing else.
"""

__version__ = "0.1.0"

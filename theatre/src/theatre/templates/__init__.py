"""theatre's templates, as data: ``project/`` (what ``theatre new`` writes), ``act/``, ``scene/``, ``task/``.

Files here are rendered by ``theatre.generation.render``: ``{{ name }}`` in a path or a file becomes the answer
called ``name``. They are not modules of theatre and are never imported.
"""

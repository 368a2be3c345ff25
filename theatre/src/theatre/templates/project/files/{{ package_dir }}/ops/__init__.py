"""Operating the service, apart from serving: the ``{{ project }}`` command."""

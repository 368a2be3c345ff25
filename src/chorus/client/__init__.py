"""The web client: its pages and assets, served by ``api:app``; built from ``client/`` at the repository root.

Not an act: it owns no table, no task and no API prefix of its own. It is a consumer of every act's API, like any
other client, and reaches none of their modules.
"""

"""The rules of the layout, one module per family: layout on disk, imports, routes, and the two processes."""

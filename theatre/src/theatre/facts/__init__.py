"""Facts read from the project without running it: where it is, its settings, its layout, its source and imports."""

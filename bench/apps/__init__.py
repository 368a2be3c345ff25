"""The ceilings: minimal ASGI apps served on the same server settings as chorus, each as thin as it can be."""

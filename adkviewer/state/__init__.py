"""Qt-free state of the app: the session (image, methods, results), messages and the weights list."""

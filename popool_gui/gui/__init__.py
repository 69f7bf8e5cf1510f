"""The PySide6 desktop window: models and delegates over the pool, the runner thread, dialogs."""

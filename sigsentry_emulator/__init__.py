"""A local SigSentry API emulator (FastAPI + SQLite) for offline tests and demos."""

"""Every client test starts with no process-wide state and no SigSentry environment variables."""

from process_state import clean_process_state as clean_process_state

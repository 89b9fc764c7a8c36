"""Training runs: start, execute (``head`` on a CPU, LoRA methods through
trl), evaluate against the active version, promote, and the schedule.
"""

"""Asking the care team to get in touch: the person's choice, the practice's worklist, and
raising a request nobody has acknowledged within a working day."""

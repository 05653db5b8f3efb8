"""Long-term conditions: recorded by the care team or sent by a GP system, read in plain
words, and which matter most to the person now."""

"""Carers acting for the people they help, as themselves and only as far as allowed."""

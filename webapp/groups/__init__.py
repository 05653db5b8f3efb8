"""Peer-support groups: membership under a chosen display name, threads, and moderation."""

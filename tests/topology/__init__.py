"""The store run as a deployment runs it: every part a process of its own."""

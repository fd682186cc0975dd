"""Correlate: alerts in, incidents out. Small pure steps composed by one worker."""

"""Report: the daily operations report for the 9:00 meeting, read from the store."""

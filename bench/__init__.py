"""`make bench`: the performance figures, printed as one table (see bench/run.py). Never run as tests."""

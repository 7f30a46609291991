"""`make bench`: figures for issue 7, printed as one table (see bench/run.py). Never run as tests."""

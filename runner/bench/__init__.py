"""`manage.py bench`: Brickwork measured against raw Dramatiq and Celery on the same Redis.

One module per subject; the command only orders the rounds and prints the results.
"""

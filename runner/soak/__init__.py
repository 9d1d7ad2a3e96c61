"""`manage.py soak`: a bounded fault-injection run that proves no run is lost or stuck.

redis.py owns the private Redis it restarts, workload.py the runs it submits, faults.py
what it breaks, report.py what it counts afterwards, and run.py puts them together.
"""

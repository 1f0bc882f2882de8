"""Workers: processes that run tasks from the job queue (procrastinate, in the task database)."""

"""The leaderboard: tasks, evaluation of a policy on a task, replay validation with the real
`opt-19`, a SQLite store of validated submissions, and a static HTML report.

>>> from optgym.leaderboard import evaluate_to_file, validate_file
>>> evaluate_to_file("builtin-test-ic-v0", "oz", "oz.csv")      # writes oz.csv and oz.json
>>> print(validate_file("oz.csv"))
"""

from optgym.leaderboard.evaluate import evaluate, evaluate_to_file
from optgym.leaderboard.results import ResultHeader, read_results, write_results
from optgym.leaderboard.tasks import Task, get_task, task_names
from optgym.leaderboard.validate import ValidationReport, validate_file, validate_states

__all__ = [
    "ResultHeader", "Task", "ValidationReport", "evaluate", "evaluate_to_file", "get_task",
    "read_results", "task_names", "validate_file", "validate_states", "write_results",
]

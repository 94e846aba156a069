"""Automation: solutions, planner, tasks, dispatcher and RQ jobs (SPEC section 5)."""

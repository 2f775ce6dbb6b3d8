"""The adverse-action notice: the letter built from a recorded memo, and issuing it (refused when a reason is a forbidden characteristic), recorded in the audit trail."""

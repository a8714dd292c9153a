"""Fault and abuse suite (issue 9): bad content, bad audio, fuzzing, component faults,
soak and security. Tests marked xfail(strict=True) document bugs still open."""

"""Outcomes of a check that are not a comparison."""


class NotAttempted(Exception):
    """The implementation under test does not attempt this op (no such class,
    or it raises NotImplementedError): grey in the report, never a failure."""


class Unavailable(Exception):
    """A witness cannot run here (framework not installed, device absent): a skip."""

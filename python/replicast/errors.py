"""Exceptions raised by replicast.

Each class carries the stable numeric ``code`` shared by every binding (the Rust
``ErrorKind`` number, the C status, Go's ``Code``). The classes also subclass the builtin
exception a Python caller would expect, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "InsufficientDataError",
    "InvalidConfigError",
    "InvalidInputError",
    "NotConvergedError",
    "NumericalError",
    "ReplicastError",
    "SerializationError",
]


class ReplicastError(Exception):
    """Base class of every replicast error.

    Attributes:
        code: The stable error number (0 for an error of a kind this version does not know).
    """

    code: int = 0


class InvalidInputError(ReplicastError, ValueError):
    """An observation or argument is unusable: NaN, negative, out of order, inconsistent."""

    code = 1


class InvalidConfigError(ReplicastError, ValueError):
    """A spec is malformed or has a value outside its valid range."""

    code = 2


class InsufficientDataError(InvalidInputError):
    """Not enough data to compute what was asked."""

    code = 3


class NotConvergedError(ReplicastError, RuntimeError):
    """An estimation did not converge."""

    code = 4


class NumericalError(ReplicastError, ArithmeticError):
    """A computation produced a non-finite or out-of-range number."""

    code = 5


class SerializationError(ReplicastError, ValueError):
    """A state, spec or decision could not be (de)serialised."""

    code = 6

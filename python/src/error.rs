//! replicast errors → the Python exceptions of `replicast.errors` (defined in pure Python).

use pyo3::PyErr;
use replicast::{Error, ErrorKind};

pyo3::import_exception!(replicast.errors, ReplicastError);
pyo3::import_exception!(replicast.errors, InvalidInputError);
pyo3::import_exception!(replicast.errors, InvalidConfigError);
pyo3::import_exception!(replicast.errors, InsufficientDataError);
pyo3::import_exception!(replicast.errors, NotConvergedError);
pyo3::import_exception!(replicast.errors, NumericalError);
pyo3::import_exception!(replicast.errors, SerializationError);

/// The one mapping from a replicast error to a Python exception.
///
/// Every kind has its own class; `ErrorKind` is `#[non_exhaustive]`, so a kind added to the
/// core before this binding knows it surfaces as the base `ReplicastError`.
pub(crate) fn to_pyerr(e: &Error) -> PyErr {
    let message = e.message().to_owned();
    match e.kind() {
        ErrorKind::InvalidInput => InvalidInputError::new_err(message),
        ErrorKind::InvalidConfig => InvalidConfigError::new_err(message),
        ErrorKind::InsufficientData => InsufficientDataError::new_err(message),
        ErrorKind::NotConverged => NotConvergedError::new_err(message),
        ErrorKind::Numerical => NumericalError::new_err(message),
        ErrorKind::Serialization => SerializationError::new_err(message),
        _ => ReplicastError::new_err(message),
    }
}

/// An `InvalidInputError` for a bad argument detected by the binding itself.
pub(crate) fn invalid_input(message: impl Into<String>) -> PyErr {
    InvalidInputError::new_err(message.into())
}

/// `err` with the workload it concerns named first (`workload 3: trace value at row 2 ...`),
/// keeping its exception class: the batch calls' one error format.
pub(crate) fn at_workload(py: pyo3::Python<'_>, index: usize, err: &PyErr) -> PyErr {
    PyErr::from_type(
        err.get_type(py),
        format!("workload {index}: {}", err.value(py)),
    )
}

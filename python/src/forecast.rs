//! Forecasting: `Model` (a spec), `FittedModel` (behind a mutex, so the class stays frozen) and
//! `Forecast`.

use std::sync::{Mutex, MutexGuard, PoisonError};

use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use replicast::forecast::{Fit, FittedModel, Forecast, ModelSpec, Predict, Update};
use serde_json::{Value, json};

use crate::batch::OnError;
use crate::convert::{Role, floats, from_value, to_value, type_name};
use crate::error::{InvalidConfigError, SerializationError, at_workload, invalid_input, to_pyerr};

/// A forecasting model description (unfitted): `{"kind": "ets", "period": 24}`.
#[pyclass(name = "Model", module = "replicast._replicast", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyModel {
    spec: ModelSpec,
}

fn model_from_value(value: Value) -> PyResult<ModelSpec> {
    let spec: ModelSpec = serde_json::from_value(value)
        .map_err(|e| InvalidConfigError::new_err(format!("invalid model spec: {e}")))?;
    spec.validate().map_err(|e| to_pyerr(&e))?;
    Ok(spec)
}

fn parse_model(obj: &Bound<'_, PyAny>) -> PyResult<ModelSpec> {
    if let Ok(m) = obj.cast::<PyModel>() {
        return Ok(m.get().spec.clone());
    }
    if let Ok(text) = obj.cast::<PyString>() {
        let value: Value = serde_json::from_str(text.to_str()?)
            .map_err(|e| InvalidConfigError::new_err(format!("invalid model spec JSON: {e}")))?;
        return model_from_value(value);
    }
    if obj.cast::<PyDict>().is_ok() {
        return model_from_value(to_value(obj, Role::Config)?);
    }
    Err(PyTypeError::new_err(format!(
        "config must be a Model, a dict or JSON text, got {}",
        type_name(obj)
    )))
}

fn count_arg(name: &str, value: i64, min: i64) -> PyResult<u64> {
    if value < min {
        return Err(InvalidConfigError::new_err(format!(
            "{name} must be at least {min}, got {value}"
        )));
    }
    Ok(value.unsigned_abs())
}

fn json_text<T: serde::Serialize>(v: &T) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn to_py<'py, T: serde::Serialize>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
    let value = serde_json::to_value(v).map_err(|e| PyValueError::new_err(e.to_string()))?;
    from_value(py, &value)
}

fn kind_of(value: &Value) -> String {
    value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned()
}

#[pymethods]
impl PyModel {
    #[new]
    fn new(config: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self {
            spec: parse_model(config)?,
        })
    }

    #[staticmethod]
    fn from_config(config: &Bound<'_, PyAny>) -> PyResult<Self> {
        Self::new(config)
    }

    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| InvalidConfigError::new_err(format!("invalid model spec JSON: {e}")))?;
        Ok(Self {
            spec: model_from_value(value)?,
        })
    }

    #[staticmethod]
    #[pyo3(signature = (*, period))]
    fn seasonal_naive(period: i64) -> PyResult<Self> {
        let period = count_arg("period", period, 1)?;
        Ok(Self {
            spec: model_from_value(json!({"kind": "seasonal_naive", "period": period}))?,
        })
    }

    #[staticmethod]
    #[pyo3(signature = (*, period=1, error=None, trend=None, season=None))]
    fn ets(
        period: i64,
        error: Option<&str>,
        trend: Option<&str>,
        season: Option<&str>,
    ) -> PyResult<Self> {
        let period = count_arg("period", period, 1)?;
        Ok(Self {
            spec: model_from_value(json!({
                "kind": "ets", "period": period, "error": error, "trend": trend, "season": season,
            }))?,
        })
    }

    #[staticmethod]
    #[pyo3(signature = (*, step_s=60, periods=None))]
    fn auto(step_s: i64, periods: Option<Vec<i64>>) -> PyResult<Self> {
        let step_s = count_arg("step_s", step_s, 1)?;
        let periods = periods
            .map(|ps| {
                ps.into_iter()
                    .map(|p| count_arg("periods[]", p, 1))
                    .collect::<PyResult<Vec<u64>>>()
            })
            .transpose()?;
        Ok(Self {
            spec: model_from_value(json!({"kind": "auto", "step_s": step_s, "periods": periods}))?,
        })
    }

    #[getter]
    fn kind(&self) -> PyResult<String> {
        Ok(kind_of(
            &serde_json::to_value(&self.spec).map_err(|e| PyValueError::new_err(e.to_string()))?,
        ))
    }

    fn to_json(&self) -> PyResult<String> {
        json_text(&self.spec)
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.spec)
    }

    /// Fits the model to a regular series `y` (oldest first), with the GIL released.
    fn fit(&self, py: Python<'_>, y: &Bound<'_, PyAny>) -> PyResult<PyFittedModel> {
        let y = floats(y, "y", &[1])?.data;
        let spec = &self.spec;
        py.detach(|| spec.fit(&y))
            .map(|model| PyFittedModel {
                model: Mutex::new(model),
            })
            .map_err(|e| to_pyerr(&e))
    }

    /// Fits the model to each series of `ys`, with the GIL released once for the batch.
    #[pyo3(signature = (ys, *, on_error="raise"))]
    fn fit_batch<'py>(
        &self,
        py: Python<'py>,
        ys: &Bound<'py, PyAny>,
        on_error: &str,
    ) -> PyResult<Bound<'py, PyList>> {
        let on_error = OnError::parse(on_error)?;
        let series = crate::batch::items(ys, "ys", "1-D array-likes")?
            .iter()
            .enumerate()
            .map(|(i, y)| {
                floats(y, "y", &[1])
                    .map(|f| f.data)
                    .map_err(|e| at_workload(py, i, &e))
            })
            .collect();
        let spec = &self.spec;
        crate::batch::run(
            py,
            series,
            on_error,
            |y| spec.fit(&y),
            |model| {
                Ok(Bound::new(
                    py,
                    PyFittedModel {
                        model: Mutex::new(model),
                    },
                )?
                .into_any())
            },
        )
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        // `kind` first, then the fields in name order
        let value =
            serde_json::to_value(&self.spec).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let dict = PyDict::new(py);
        dict.set_item("kind", kind_of(&value))?;
        if let Value::Object(map) = &value {
            for (k, v) in map.iter().filter(|(k, _)| *k != "kind") {
                dict.set_item(k, from_value(py, v)?)?;
            }
        }
        Ok(format!("Model({})", dict.repr()?))
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let ctor = slf.get_type().getattr("from_json")?;
        let args = PyTuple::new(slf.py(), [slf.get().to_json()?])?;
        Ok((ctor, args))
    }
}

/// A fitted model: forecasts, and absorbs new observations one at a time.
#[pyclass(name = "FittedModel", module = "replicast._replicast", frozen, eq)]
#[derive(Debug)]
pub(crate) struct PyFittedModel {
    model: Mutex<FittedModel>,
}

impl PyFittedModel {
    fn lock(&self) -> MutexGuard<'_, FittedModel> {
        // `update` leaves the model unchanged on error, so a poisoned lock guards
        // consistent data.
        self.model.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn snapshot(&self) -> FittedModel {
        self.lock().clone()
    }
}

impl PartialEq for PyFittedModel {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other) || self.snapshot() == other.snapshot()
    }
}

#[pymethods]
impl PyFittedModel {
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        FittedModel::from_json(text)
            .map(|model| Self {
                model: Mutex::new(model),
            })
            .map_err(|e| to_pyerr(&e))
    }

    fn to_json(&self) -> PyResult<String> {
        json_text(&*self.lock())
    }

    #[getter]
    fn kind(&self) -> PyResult<String> {
        Ok(kind_of(
            &serde_json::to_value(&*self.lock())
                .map_err(|e| PyValueError::new_err(e.to_string()))?,
        ))
    }

    #[getter]
    fn n_obs(&self) -> usize {
        self.lock().n_obs()
    }

    #[pyo3(signature = (horizon, *, level=None))]
    fn predict(&self, py: Python<'_>, horizon: i64, level: Option<f64>) -> PyResult<PyForecast> {
        let horizon = usize::try_from(horizon)
            .map_err(|_| invalid_input(format!("horizon must be at least 1, got {horizon}")))?;
        py.detach(|| self.lock().predict(horizon, level))
            .map(|forecast| PyForecast { forecast })
            .map_err(|e| to_pyerr(&e))
    }

    fn update(&self, py: Python<'_>, y: f64) -> PyResult<()> {
        py.detach(|| self.lock().update(y))
            .map_err(|e| to_pyerr(&e))
    }

    fn __repr__(&self) -> PyResult<String> {
        Ok(format!(
            "FittedModel(kind='{}', n_obs={})",
            self.kind()?,
            self.n_obs()
        ))
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let ctor = slf.get_type().getattr("from_json")?;
        let args = PyTuple::new(slf.py(), [slf.get().to_json()?])?;
        Ok((ctor, args))
    }
}

/// Point forecasts for steps `1..=horizon`, with an optional central interval.
#[pyclass(name = "Forecast", module = "replicast._replicast", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyForecast {
    forecast: Forecast,
}

#[pymethods]
impl PyForecast {
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        serde_json::from_str(text)
            .map(|forecast| Self { forecast })
            .map_err(|e| SerializationError::new_err(format!("invalid forecast: {e}")))
    }

    fn to_json(&self) -> PyResult<String> {
        json_text(&self.forecast)
    }

    #[getter]
    fn point<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.forecast.point.clone().into_pyarray(py)
    }

    #[getter]
    fn lower<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
        self.forecast
            .intervals
            .as_ref()
            .map(|iv| iv.lower.clone().into_pyarray(py))
    }

    #[getter]
    fn upper<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
        self.forecast
            .intervals
            .as_ref()
            .map(|iv| iv.upper.clone().into_pyarray(py))
    }

    #[getter]
    fn level(&self) -> Option<f64> {
        self.forecast.intervals.as_ref().map(|iv| iv.level)
    }

    #[getter]
    fn horizon(&self) -> usize {
        self.forecast.point.len()
    }

    fn __len__(&self) -> usize {
        self.forecast.point.len()
    }

    fn __repr__(&self) -> String {
        let level = self
            .level()
            .map_or_else(|| "None".to_owned(), |l| format!("{l}"));
        format!(
            "Forecast(horizon={}, level={level})",
            self.forecast.point.len()
        )
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let ctor = slf.get_type().getattr("from_json")?;
        let args = PyTuple::new(slf.py(), [slf.get().to_json()?])?;
        Ok((ctor, args))
    }
}

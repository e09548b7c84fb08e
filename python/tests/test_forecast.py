"""Forecasting: Model specs, fitting, prediction, intervals, updates, errors, pickling."""

from __future__ import annotations

import copy
import json
import pickle
import threading

import numpy as np
import pytest

import replicast
from replicast.errors import (
    InsufficientDataError,
    InvalidConfigError,
    InvalidInputError,
    SerializationError,
)

WEEKLY = np.array([3.0, 5.0, 8.0, 13.0, 21.0, 13.0, 8.0])


def seasonal_series(periods: int = 6) -> np.ndarray:
    return np.tile(WEEKLY, periods) + np.arange(7 * periods) % 3


def test_seasonal_naive_repeats_the_last_period_exactly() -> None:
    y = seasonal_series()
    fc = replicast.Model.seasonal_naive(period=7).fit(y).predict(16)
    want = np.concatenate([y[-7:], y[-7:], y[-7:][:2]])
    assert fc.point.dtype == np.float64
    assert fc.point.shape == (16,)
    np.testing.assert_array_equal(fc.point, want)
    assert fc.lower is None and fc.upper is None and fc.level is None
    assert fc.horizon == len(fc) == 16


@pytest.mark.parametrize(
    "model",
    [
        replicast.Model.seasonal_naive(period=7),
        replicast.Model.ets(period=7),
        replicast.Model.ets(trend="additive", season="none", error="additive"),
        replicast.Model.auto(step_s=60, periods=[7]),
        # Kinds without a named constructor work through the config dict (no binding code).
        replicast.Model({"kind": "regression", "step_s": 3600, "periods": [7]}),
        replicast.Model({"kind": "multi_seasonal", "periods": [7]}),
    ],
    ids=repr,
)
def test_intervals_bracket_the_point_forecast(model: replicast.Model) -> None:
    fc = model.fit(seasonal_series(10)).predict(12, level=0.9)
    assert fc.level == 0.9
    assert fc.lower is not None and fc.upper is not None
    for arr in (fc.point, fc.lower, fc.upper):
        assert arr.dtype == np.float64 and arr.shape == (12,)
        assert np.isfinite(arr).all()
    assert (fc.lower <= fc.point).all() and (fc.point <= fc.upper).all()
    assert (fc.lower < fc.upper).any()


def test_wider_level_gives_wider_intervals() -> None:
    fitted = replicast.Model.ets(period=7).fit(seasonal_series(10))
    narrow, wide = fitted.predict(5, level=0.5), fitted.predict(5, level=0.99)
    assert narrow.lower is not None and narrow.upper is not None
    assert wide.lower is not None and wide.upper is not None
    np.testing.assert_array_equal(narrow.point, wide.point)
    assert ((wide.upper - wide.lower) > (narrow.upper - narrow.lower)).all()


def test_ets_follows_a_linear_trend() -> None:
    y = 10.0 + 0.5 * np.arange(100)
    fc = replicast.Model.ets(trend="additive").fit(y).predict(2)
    assert fc.point[0] == pytest.approx(60.0, abs=0.5)


def test_update_absorbs_one_observation() -> None:
    fitted = replicast.Model.seasonal_naive(period=1).fit([1, 2, 3])
    assert fitted.n_obs == 3
    fitted.update(4.0)
    assert fitted.n_obs == 4
    np.testing.assert_array_equal(fitted.predict(2).point, [4.0, 4.0])


def test_update_rejects_nan_and_leaves_the_model_unchanged() -> None:
    fitted = replicast.Model.seasonal_naive(period=1).fit([1.0, 2.0])
    before = copy.copy(fitted.to_json())
    with pytest.raises(InvalidInputError, match="y must be finite, got NaN"):
        fitted.update(float("nan"))
    assert fitted.to_json() == before
    assert fitted.n_obs == 2


def test_constructors_agree_with_dict_and_json_configs() -> None:
    by_name = replicast.Model.seasonal_naive(period=24)
    config = {"kind": "seasonal_naive", "period": 24}
    assert replicast.Model(config) == by_name
    assert replicast.Model(json.dumps(config)) == by_name
    assert replicast.Model.from_config(config) == by_name
    assert replicast.Model(by_name) == by_name
    assert replicast.Model.from_json(by_name.to_json()) == by_name
    assert by_name.to_dict() == config
    assert by_name.kind == "seasonal_naive"
    assert replicast.Model.ets(period=24) == replicast.Model({"kind": "ets", "period": 24})
    assert replicast.Model.auto(step_s=30).to_dict()["step_s"] == 30
    assert replicast.Model.ets() != replicast.Model.ets(period=2)


def test_repr() -> None:
    assert repr(replicast.Model.seasonal_naive(period=3)) == (
        "Model({'kind': 'seasonal_naive', 'period': 3})"
    )
    assert repr(replicast.Model.ets()).startswith("Model({'kind': 'ets', ")
    fitted = replicast.Model.seasonal_naive(period=3).fit(np.arange(6.0))
    assert repr(fitted) == "FittedModel(kind='seasonal_naive', n_obs=6)"
    assert fitted.kind == "seasonal_naive"
    assert repr(fitted.predict(2, level=0.8)) == "Forecast(horizon=2, level=0.8)"
    assert repr(fitted.predict(2)) == "Forecast(horizon=2, level=None)"


def test_pickling_round_trips_and_predicts_identically() -> None:
    model = replicast.Model.ets(period=7)
    assert pickle.loads(pickle.dumps(model)) == model
    fitted = model.fit(seasonal_series(10))
    back = pickle.loads(pickle.dumps(fitted))
    assert isinstance(back, replicast.FittedModel)
    assert back == fitted
    a, b = fitted.predict(10, level=0.8), back.predict(10, level=0.8)
    assert a == b
    np.testing.assert_array_equal(a.point, b.point)
    assert pickle.loads(pickle.dumps(a)) == a
    # the copy is independent: updating one leaves the other alone
    back.update(100.0)
    assert back != fitted
    assert back.n_obs == fitted.n_obs + 1
    assert replicast.FittedModel.from_json(fitted.to_json()) == fitted
    assert replicast.Forecast.from_json(a.to_json()) == a


def test_fit_accepts_any_1d_array_like() -> None:
    spec = replicast.Model.seasonal_naive(period=2)
    want = spec.fit([1.0, 2.0, 3.0, 4.0]).predict(2).point
    strided = np.array([0, 1, 0, 2, 0, 3, 0, 4], dtype=np.float32)[1::2]
    assert not strided.flags.c_contiguous
    for y in ([1, 2, 3, 4], (1, 2, 3, 4), np.array([1, 2, 3, 4], dtype=np.int32), strided):
        np.testing.assert_array_equal(spec.fit(y).predict(2).point, want)


@pytest.mark.parametrize(
    ("y", "error", "match"),
    [
        ([1.0, 2.0, float("nan"), 4.0], InvalidInputError, r"y\[2\] must be finite, got NaN"),
        ([1.0, float("inf")], InvalidInputError, r"y\[1\] must be finite, got inf"),
        ([], InvalidInputError, "series is empty"),
        ([[1.0, 2.0], [3.0, 4.0]], ValueError, "y must be 1-D, got a 2-D array"),
        (["a", "b"], TypeError, "y must be numeric"),
        (np.arange(10.0), InsufficientDataError, "needs at least 48 observations"),
    ],
)
def test_fit_rejects_bad_input(y: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        replicast.Model.ets(period=24).fit(y)  # type: ignore[arg-type]


def test_insufficient_data_is_an_invalid_input_error() -> None:
    with pytest.raises(InvalidInputError, match="needs at least 24 observations, got 10"):
        replicast.Model.seasonal_naive(period=24).fit(np.arange(10.0))


@pytest.mark.parametrize(
    ("horizon", "level", "match"),
    [
        (0, None, "horizon must be at least 1, got 0"),
        (-3, None, "horizon must be at least 1, got -3"),
        (3, 1.5, r"level must be in \(0, 1\), got 1.5"),
        (3, 0.0, r"level must be in \(0, 1\), got 0"),
    ],
)
def test_predict_rejects_bad_requests(horizon: int, level: float | None, match: str) -> None:
    fitted = replicast.Model.seasonal_naive(period=1).fit([1.0, 2.0])
    with pytest.raises(InvalidInputError, match=match):
        fitted.predict(horizon, level=level)


@pytest.mark.parametrize(
    ("config", "error", "match"),
    [
        ({"kind": "ets", "bogus": 1}, InvalidConfigError, "unknown field `bogus`"),
        ({"kind": "arima"}, InvalidConfigError, "unknown variant `arima`"),
        ({"kind": "seasonal_naive", "period": 0}, InvalidConfigError,
         "period must be at least 1, got 0"),
        ("{not json", InvalidConfigError, "invalid model spec JSON"),
        (3, TypeError, "config must be a Model, a dict or JSON text, got int"),
    ],
)
def test_bad_configs(config: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        replicast.Model(config)  # type: ignore[arg-type]


def test_bad_named_constructor_arguments() -> None:
    with pytest.raises(InvalidConfigError, match="period must be at least 1, got 0"):
        replicast.Model.seasonal_naive(period=0)
    with pytest.raises(InvalidConfigError, match="unknown variant `cubic`"):
        replicast.Model.ets(trend="cubic")  # type: ignore[arg-type]
    with pytest.raises(InvalidConfigError, match="step_s must be at least 1, got 0"):
        replicast.Model.auto(step_s=0)
    with pytest.raises(TypeError):
        replicast.Model.seasonal_naive(7)  # type: ignore[misc]
    with pytest.raises(SerializationError, match="invalid fitted model"):
        replicast.FittedModel.from_json('{"kind": "ets"}')


def test_shared_fitted_model_across_threads() -> None:
    fitted = replicast.Model.seasonal_naive(period=1).fit([0.0])
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for i in range(200):
                fitted.update(float(i))
                assert fitted.predict(3).point.shape == (3,)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert fitted.n_obs == 1 + 4 * 200

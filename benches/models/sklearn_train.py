"""scikit-learn's side of the model-training comparison (benches/models/compare.sh).

Reads the same Parquet table as `model-training train`, makes the same time-ordered split
(rows sorted by the time column, first 80 % train, last 20 % validation, a boundary never
inside one time value), one-hot encodes text columns as ours does, and fits:
  - StandardScaler + LogisticRegression(lbfgs, C=1, class_weight="balanced") — the same
    model and objective as ours;
  - HistGradientBoostingClassifier (defaults) — the reference for the tree challenger.
Prints one `RESULT {json}` line per model: fit seconds, validation AUC, scoring rows/s.

usage: sklearn_train.py DATA.parquet LABEL TIME [SKIP,...]
"""
import json
import sys
import time
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def load(path, label, time_col, skip):
    table = pq.read_table(path)
    # As ours reads them: decimals as floats, times as integers that order the rows.
    for i, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.float64()))
        elif field.name == time_col and pa.types.is_timestamp(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.int64()))
        elif field.name == time_col and pa.types.is_date(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.int32()))
    df = table.to_pandas()
    df = df[df[label].notna() & df[time_col].notna()]
    df = df.sort_values(time_col, kind="stable")
    y = df[label].astype(bool).to_numpy()
    t = df[time_col].astype("int64").to_numpy()
    text = {f.name for f in table.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type) or pa.types.is_string_view(f.type)}
    columns = []
    for name in df.columns:
        if name in (label, time_col) or name in skip:
            continue
        col = df[name]
        if name in text:
            for category in sorted(v for v in col.dropna().unique()):
                columns.append((col == category).astype(float).to_numpy())
        else:
            columns.append(col.astype(float).to_numpy())
    x = np.column_stack(columns)
    return x, y, t


def split(t, share):
    n = len(t)
    cut = int(round(share * n))
    while 0 < cut < n and t[cut] == t[cut - 1]:
        cut += 1
    return cut


def score_rate(model, x):
    start = time.perf_counter()
    scored = 0
    while time.perf_counter() - start < 1.0:
        model.predict_proba(x)
        scored += len(x)
    return scored / (time.perf_counter() - start)


def main():
    path, label, time_col = sys.argv[1:4]
    skip = sys.argv[4].split(",") if len(sys.argv) > 4 else []
    x, y, t = load(path, label, time_col, skip)
    cut = split(t, 0.8)
    x_train, y_train, x_valid, y_valid = x[:cut], y[:cut], x[cut:], y[cut:]
    has_nan = bool(np.isnan(x).any())
    models = {
        "logistic": make_pipeline(
            StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced")
        ),
        "hist_gradient_boosting": HistGradientBoostingClassifier(),
    }
    for name, model in models.items():
        fit_x = x_train
        if name == "logistic" and has_nan:
            # LogisticRegression refuses NaN; ours reads a missing value as the mean.
            means = np.nanmean(x_train, axis=0)
            fit_x = np.where(np.isnan(x_train), means, x_train)
            valid_x = np.where(np.isnan(x_valid), means, x_valid)
        else:
            valid_x = x_valid
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            start = time.perf_counter()
            model.fit(fit_x, y_train)
            fit_seconds = time.perf_counter() - start
        p = model.predict_proba(valid_x)[:, 1]
        result = {
            "impl": "scikit-learn " + sklearn.__version__,
            "model": name,
            "rows": int(len(y)),
            "train_rows": int(cut),
            "features": int(x.shape[1]),
            "fit_seconds": round(fit_seconds, 4),
            "auc": round(float(roc_auc_score(y_valid, p)), 6),
            "score_rows_per_second": round(score_rate(model, valid_x)),
            "converged": not any(issubclass(w.category, ConvergenceWarning) for w in caught),
        }
        if name == "logistic":
            result["iterations"] = int(model[-1].n_iter_[0])
        else:
            result["iterations"] = int(model.n_iter_)
        print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

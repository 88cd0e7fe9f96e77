"""Reference coefficients for models/tests/it/logistic.rs, from scikit-learn.

Fits StandardScaler + LogisticRegression (C=1, lbfgs, tight tolerance) on the IBM
accounts-receivable sample (testdata/ibm-ar) with the features the test builds: invoice
amount, disputed, electronic billing and one indicator per country code but 391; label
DaysLate > 0. Prints the standardised coefficients and intercept for class_weight None and
"balanced". Run: python3 ibm_ar_logistic.py testdata/ibm-ar/WA_Fn-UseC_-Accounts-Receivable.csv
"""
import csv
import sys

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

rows = list(csv.DictReader(open(sys.argv[1], newline="")))
x = np.array(
    [
        [
            float(r["InvoiceAmount"]),
            1.0 if r["Disputed"] == "Yes" else 0.0,
            1.0 if r["PaperlessBill"] == "Electronic" else 0.0,
        ]
        + [1.0 if r["countryCode"] == c else 0.0 for c in ("406", "770", "818", "897")]
        for r in rows
    ]
)
y = np.array([int(r["DaysLate"]) > 0 for r in rows])
xs = StandardScaler().fit_transform(x)
print("scikit-learn", sklearn.__version__, "rows", len(y), "late", int(y.sum()))
for weight in (None, "balanced"):
    m = LogisticRegression(C=1.0, tol=1e-12, max_iter=10000, class_weight=weight).fit(xs, y)
    print(weight, [round(float(v), 8) for v in m.coef_[0]], round(float(m.intercept_[0]), 8))

"""Prints the comparison table from compare.sh's results (lines: `<dataset> {json}`)."""
import json
import sys

results = {}
for line in open(sys.argv[1]):
    dataset, _, payload = line.partition(" ")
    r = json.loads(payload)
    results.setdefault(dataset, []).append(r)

print()
print(f"{'data':<10} {'model':<24} {'implementation':<22} {'rows':>9} {'fit s':>8} {'iter':>5} {'AUC':>8} {'score rows/s':>13}")
for dataset, rs in results.items():
    for r in rs:
        print(f"{dataset:<10} {r['model']:<24} {r['impl']:<22} {r['train_rows']:>9} {r['fit_seconds']:>8.3f} "
              f"{r['iterations']:>5} {r['auc']:>8.4f} {r['score_rows_per_second']:>13,.0f}")
    ours = next((r for r in rs if r["impl"] == "creditstream" and r["model"] == "logistic"), None)
    ref = next((r for r in rs if r["impl"].startswith("scikit") and r["model"] == "logistic"), None)
    if ours and ref:
        print(f"{dataset:<10} logistic: fit time ours/scikit-learn = {ours['fit_seconds'] / ref['fit_seconds']:.2f}x, "
              f"AUC ours - scikit-learn = {ours['auc'] - ref['auc']:+.4f}, "
              f"scoring ours/scikit-learn = {ours['score_rows_per_second'] / ref['score_rows_per_second']:.1f}x, "
              f"single row p50 {ours['single_row_ns_p50']:.0f} ns, p99 {ours['single_row_ns_p99']:.0f} ns")
    ours = next((r for r in rs if r["impl"] == "creditstream" and r["model"] == "boosted_trees"), None)
    ref = next((r for r in rs if r["impl"].startswith("scikit") and r["model"] == "hist_gradient_boosting"), None)
    if ours and ref:
        print(f"{dataset:<10} trees: fit time ours/HistGradientBoosting = {ours['fit_seconds'] / ref['fit_seconds']:.2f}x, "
              f"AUC ours - HistGradientBoosting = {ours['auc'] - ref['auc']:+.4f}")

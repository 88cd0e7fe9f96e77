#!/usr/bin/env bash
# Model training, side by side: creditstream (linfa Fit, Newton) against scikit-learn on
# the same Parquet files, the same time-ordered split, in the same run.
#
#   benches/models/compare.sh [ROWS] [DEBTORS] [MONTHS]
#
# ROWS (default 1000000) rows of the seeded synthetic table (30 features), and the
# point-in-time training set of a simulated portfolio of DEBTORS (default 20000) over
# MONTHS (default 12). scikit-learn is installed into a virtual environment under
# target/sklearn-venv on first use (python3-venv is installed if missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rows="${1:-1000000}"
debtors="${2:-20000}"
months="${3:-12}"

if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get install -y python3-venv
fi
target="$(cd "$root" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
venv="$target/sklearn-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sklearn, pyarrow, pandas' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet scikit-learn pyarrow pandas
fi

(cd "$root" && cargo build --release --locked --workspace --bin model-training)
ours="$target/release/model-training"
data="$target/model-bench"
mkdir -p "$data"
synthetic="$data/synthetic-$rows.parquet"
simulated="$data/simulated-$debtors-$months.parquet"
[ -f "$synthetic" ] || "$ours" synthetic "$rows" "$synthetic"
[ -f "$simulated" ] || "$ours" simulated "$debtors" "$months" "$simulated"

skip_simulated="invoice_number,debtor_id,due_date,days_late"
out="$data/results.txt"
: > "$out"
for set in synthetic simulated; do
  if [ "$set" = synthetic ]; then file="$synthetic"; label=late; time=t; skip=""
  else file="$simulated"; label=late; time=issued_at; skip="$skip_simulated"; fi
  echo "== $set: $file"
  "$ours" train "$file" "$label" "$time" "$skip" | tee -a /dev/stderr | sed "s/^RESULT /$set /" >> "$out"
  "$venv/bin/python" "$here/sklearn_train.py" "$file" "$label" "$time" "$skip" | tee -a /dev/stderr | sed "s/^RESULT /$set /" >> "$out"
done
python3 "$here/summary.py" "$out"

//! Our side of the model-training comparison with scikit-learn
//! (`benches/models/compare.sh` runs both on the same files and prints them side by side).
//!
//! - `model-training synthetic ROWS OUT.parquet`: writes the seeded synthetic table
//!   (a day column `t`, 30 features `f00`..`f29` of mixed scales, some binary, some
//!   skewed, and the label `late` drawn from a logistic model with two non-linear terms).
//! - `model-training simulated DEBTORS MONTHS OUT.parquet`: simulates a portfolio, archives
//!   it and builds its point-in-time training set as `creditstream dataset` does.
//! - `model-training train DATA.parquet LABEL TIME [SKIP,...]`: reads the table, splits it by
//!   time (first 80 % train, last 20 % validation), fits our logistic regression (balanced
//!   classes, C = 1, standardised) and our boosted trees (100 trees of 31 leaves, learning
//!   rate 0.1, as scikit-learn's `HistGradientBoostingClassifier`), and prints one
//!   `RESULT {json}` line each: fit seconds, iterations, validation AUC, batch scoring
//!   rows/s (and single-row latency for the logistic model).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, RecordBatchReader,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use linfa::prelude::*;
use models::{BoostingParams, LogisticParams, TrainingTable};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["synthetic", rows, out] => synthetic(number(rows), Path::new(out)),
        ["simulated", debtors, months, out] => simulated(
            number(debtors) as u32,
            number(months) as u32,
            Path::new(out),
        ),
        ["train", data, label, time] => train(Path::new(data), label, time, &[]),
        ["train", data, label, time, skip] => {
            let skip: Vec<&str> = skip.split(',').filter(|s| !s.is_empty()).collect();
            train(Path::new(data), label, time, &skip)
        }
        _ => usage("unknown arguments"),
    }
}

fn number(s: &str) -> usize {
    s.replace('_', "")
        .parse()
        .unwrap_or_else(|_| usage(&format!("{s} is not a number")))
}

fn usage(why: &str) -> ! {
    eprintln!(
        "error: {why}\nusage: model-training synthetic ROWS OUT.parquet\n       \
         model-training simulated DEBTORS MONTHS OUT.parquet\n       \
         model-training train DATA.parquet LABEL TIME [SKIP,...]"
    );
    std::process::exit(2);
}

/// SplitMix64: a small seeded generator, so the table is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }
}

const FEATURES: usize = 30;

fn synthetic(rows: usize, out: &Path) {
    let mut rng = Rng(20261201);
    // Column j: standard normal z_j shown as m_j + s_j·z_j (every 5th binary, every 7th
    // log-normal), so scaling matters; half the columns carry signal.
    let beta: Vec<f64> = (0..FEATURES)
        .map(|j| if j % 2 == 0 { 0.6 / (1.0 + j as f64 / 6.0) } else { 0.0 } * if j % 4 == 0 { -1.0 } else { 1.0 })
        .collect();
    let mut fields = vec![Field::new("t", DataType::Int64, false)];
    fields.extend((0..FEATURES).map(|j| Field::new(format!("f{j:02}"), DataType::Float64, false)));
    fields.push(Field::new("late", DataType::Boolean, false));
    let schema = Arc::new(Schema::new(fields));
    let mut batches = Vec::new();
    let chunk = 65_536;
    let mut late_rows = 0_usize;
    for start in (0..rows).step_by(chunk) {
        let m = chunk.min(rows - start);
        let mut cols: Vec<Vec<f64>> = (0..FEATURES).map(|_| Vec::with_capacity(m)).collect();
        let mut late = Vec::with_capacity(m);
        for _ in 0..m {
            let mut z = -1.7;
            let mut zs = [0.0; FEATURES];
            for j in 0..FEATURES {
                let v = rng.normal();
                zs[j] = v;
                let shown = if j % 5 == 0 {
                    f64::from(u8::from(v > 0.5))
                } else if j % 7 == 0 {
                    v.exp()
                } else {
                    (j as f64) * 10.0 + (1.0 + j as f64) * v
                };
                cols[j].push(shown);
                z += beta[j]
                    * if j % 5 == 0 {
                        f64::from(u8::from(v > 0.5))
                    } else {
                        v
                    };
            }
            z += 0.5 * zs[1] * zs[3] + 0.3 * (zs[2] * zs[2] - 1.0);
            let p = 1.0 / (1.0 + (-z).exp());
            let l = rng.uniform() < p;
            late_rows += usize::from(l);
            late.push(l);
        }
        let mut columns: Vec<ArrayRef> = vec![Arc::new(Int64Array::from_iter_values(
            (start..start + m).map(|i| (i / 1000) as i64),
        ))];
        columns.extend(
            cols.into_iter()
                .map(|c| Arc::new(Float64Array::from(c)) as ArrayRef),
        );
        columns.push(Arc::new(BooleanArray::from(late)));
        batches.push(RecordBatch::try_new(schema.clone(), columns).expect("batch"));
    }
    pipeline::archive::write_parquet_batches(out, schema, &batches).expect("write table");
    println!(
        "synthetic: {rows} rows x {FEATURES} features, {:.1} % late, written to {}",
        100.0 * late_rows as f64 / rows as f64,
        out.display()
    );
}

fn simulated(debtors: u32, months: u32, out: &Path) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let archive = dir.path().join("archive");
    let events = benches::archive_simulation(&archive, debtors, months);
    let args = pipeline::dataset::DatasetArgs {
        archive,
        out: out.to_path_buf(),
        late_days: features::training::DEFAULT_LATE_DAYS,
        horizon_days: features::training::DEFAULT_HORIZON_DAYS,
        feature_definitions: None,
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let summary = runtime
        .block_on(pipeline::dataset::build(&args))
        .expect("dataset");
    println!(
        "simulated: {debtors} debtors, {months} months, {events} events → {} rows ({} late, {} unlabelled) in {}",
        summary.rows,
        summary.late,
        summary.unlabelled,
        out.display()
    );
}

fn train(data: &Path, label: &str, time: &str, skip: &[&str]) {
    let file = File::open(data).unwrap_or_else(|e| usage(&format!("{}: {e}", data.display())));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("parquet reader");
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().expect("parquet batches");
    let table = TrainingTable::from_batches(&schema, &batches, label, time, skip).expect("table");
    drop(batches);
    let parts = table.split_by_time(&[0.8, 0.2]).expect("split");
    let (x_train, y_train) = table.part(parts[0].clone());
    let (x_valid, y_valid) = table.part(parts[1].clone());
    let train_set = DatasetBase::new(x_train, ndarray::Array1::from(y_train.to_vec()));

    let t = Instant::now();
    let model = LogisticParams::new().fit(&train_set).expect("fit");
    let fit_seconds = t.elapsed().as_secs_f64();

    let (p, rows_per_second) = scoring_rate(x_valid.nrows(), || {
        model.probabilities(x_valid).expect("score")
    });
    let auc = models::metrics::auc(p.as_slice().expect("contiguous"), y_valid).expect("auc");

    let rows: Vec<Vec<f64>> = x_valid
        .rows()
        .into_iter()
        .take(20_000)
        .map(|r| r.to_vec())
        .collect();
    let mut latencies: Vec<f64> = rows
        .iter()
        .map(|r| {
            let t = Instant::now();
            std::hint::black_box(model.probability(std::hint::black_box(r)));
            t.elapsed().as_secs_f64()
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |q: f64| benches::percentile(&latencies, q) * 1e9;
    println!(
        "RESULT {{\"impl\": \"creditstream\", \"model\": \"logistic\", \"rows\": {}, \"train_rows\": {}, \
         \"features\": {}, \"fit_seconds\": {fit_seconds:.4}, \"iterations\": {}, \"converged\": {}, \
         \"auc\": {auc:.6}, \"score_rows_per_second\": {rows_per_second:.0}, \
         \"single_row_ns_p50\": {:.0}, \"single_row_ns_p99\": {:.0}}}",
        table.rows(),
        x_train.nrows(),
        table.encoding.width(),
        model.iterations,
        model.converged,
        pct(0.5),
        pct(0.99)
    );

    let t = Instant::now();
    let trees = BoostingParams::new().fit(&train_set).expect("fit trees");
    let fit_seconds = t.elapsed().as_secs_f64();
    let (p, rows_per_second) = scoring_rate(x_valid.nrows(), || {
        trees.probabilities(x_valid).expect("score")
    });
    let auc = models::metrics::auc(&p, y_valid).expect("auc");
    println!(
        "RESULT {{\"impl\": \"creditstream\", \"model\": \"boosted_trees\", \"rows\": {}, \"train_rows\": {}, \
         \"features\": {}, \"fit_seconds\": {fit_seconds:.4}, \"iterations\": {}, \"converged\": true, \
         \"auc\": {auc:.6}, \"score_rows_per_second\": {rows_per_second:.0}}}",
        table.rows(),
        x_train.nrows(),
        table.encoding.width(),
        trees.trees.len(),
    );
}

/// Scores the validation rows again and again for at least a second; returns the scores
/// and the rows scored per second.
fn scoring_rate<T>(rows: usize, score: impl Fn() -> T) -> (T, f64) {
    let t = Instant::now();
    let mut p = score();
    let mut scored = rows;
    while t.elapsed().as_secs_f64() < 1.0 {
        p = score();
        scored += rows;
    }
    (p, scored as f64 / t.elapsed().as_secs_f64())
}

//! The same training code on a real public table: the IBM accounts-receivable sample, with
//! point-in-time features (only what was known on each invoice's date).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Date32Array, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use chrono::{NaiveDate, TimeZone};
use models::{TrainingConfig, TrainingTable, train};

struct Invoice {
    customer: String,
    country: String,
    issued: i64,
    settled: i64,
    paperless_from: i64,
    amount: f64,
    disputed: bool,
    days_late: i64,
}

fn day(us_date: &str) -> i64 {
    let d = NaiveDate::parse_from_str(us_date, "%m/%d/%Y").expect("M/D/YYYY date");
    (d - NaiveDate::default()).num_days()
}

fn invoices() -> Vec<Invoice> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/ibm-ar/WA_Fn-UseC_-Accounts-Receivable.csv"
    );
    let text = std::fs::read_to_string(path).expect("IBM sample");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).expect("column");
    let c = [
        col("customerID"),
        col("countryCode"),
        col("InvoiceDate"),
        col("SettledDate"),
        col("PaperlessDate"),
        col("InvoiceAmount"),
        col("Disputed"),
        col("DaysLate"),
    ];
    let mut out: Vec<Invoice> = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.trim_end().split(',').collect();
            Invoice {
                customer: f[c[0]].to_owned(),
                country: f[c[1]].to_owned(),
                issued: day(f[c[2]]),
                settled: day(f[c[3]]),
                paperless_from: day(f[c[4]]),
                amount: f[c[5]].parse().expect("amount"),
                disputed: f[c[6]] == "Yes",
                days_late: f[c[7]].parse().expect("days late"),
            }
        })
        .collect();
    out.sort_by_key(|i| i.issued);
    out
}

/// One row per invoice with the customer's history as known on the invoice date: only
/// invoices settled before it count as outcomes; never the invoice's own settlement,
/// dispute or lateness.
pub fn point_in_time_table() -> (Arc<Schema>, RecordBatch) {
    let all = invoices();
    let mut by_customer: HashMap<&str, Vec<&Invoice>> = HashMap::new();
    for i in &all {
        by_customer.entry(&i.customer).or_default().push(i);
    }
    let names = [
        "amount",
        "paperless",
        "prior_settled",
        "prior_late_share",
        "prior_avg_days_late",
        "prior_max_days_late",
        "prior_disputed_share",
        "open_invoices",
        "open_amount",
    ];
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let (mut issued, mut country, mut late) = (Vec::new(), Vec::new(), Vec::new());
    for i in &all {
        let history = &by_customer[i.customer.as_str()];
        let settled: Vec<&&Invoice> = history.iter().filter(|h| h.settled < i.issued).collect();
        let open: Vec<&&Invoice> = history
            .iter()
            .filter(|h| h.issued < i.issued && h.settled >= i.issued)
            .collect();
        let n = settled.len() as f64;
        let share = |f: &dyn Fn(&Invoice) -> bool| {
            if n == 0.0 {
                f64::NAN
            } else {
                settled.iter().filter(|h| f(h)).count() as f64 / n
            }
        };
        let row = [
            i.amount,
            f64::from(u8::from(i.paperless_from <= i.issued)),
            n,
            share(&|h| h.days_late > 0),
            if n == 0.0 {
                f64::NAN
            } else {
                settled.iter().map(|h| h.days_late as f64).sum::<f64>() / n
            },
            settled
                .iter()
                .map(|h| h.days_late as f64)
                .fold(f64::NAN, f64::max),
            share(&|h| h.disputed),
            open.len() as f64,
            open.iter().map(|h| h.amount).sum(),
        ];
        for (v, x) in values.iter_mut().zip(row) {
            v.push(x);
        }
        issued.push(i.issued);
        country.push(i.country.clone());
        late.push(i.days_late > 0);
    }
    let mut fields = vec![Field::new("issued", DataType::Date32, false)];
    fields.extend(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Float64, true)),
    );
    fields.push(Field::new("country", DataType::Utf8, false));
    fields.push(Field::new("late", DataType::Boolean, false));
    let schema = Arc::new(Schema::new(fields));
    let mut columns: Vec<ArrayRef> = vec![Arc::new(Date32Array::from(
        issued.iter().map(|&d| d as i32).collect::<Vec<_>>(),
    ))];
    columns.extend(values.into_iter().map(|v| {
        Arc::new(Float64Array::from_iter(
            v.into_iter().map(|x| (!x.is_nan()).then_some(x)),
        )) as ArrayRef
    }));
    columns.push(Arc::new(StringArray::from(country)));
    columns.push(Arc::new(BooleanArray::from(late)));
    let batch = RecordBatch::try_new(schema.clone(), columns).expect("batch");
    (schema, batch)
}

#[test]
fn trained_on_the_ibm_sample_the_model_beats_the_base_rate_on_later_invoices() {
    let (schema, batch) = point_in_time_table();
    let table =
        TrainingTable::from_batches(&schema, &[batch], "late", "issued", &[]).expect("table");
    assert_eq!(table.rows(), 2466);
    let created = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    let artifact = train(
        &table,
        &TrainingConfig::default(),
        "ibm-ar",
        "issued",
        created,
        |_| {},
    )
    .expect("train");
    let m = &artifact.metadata.metrics;
    println!(
        "IBM sample: {} validation invoices from day {}, base rate {:.4}, training base rate {:.4}, \
         AUC {:.4}, KS {:.4}, Brier {:.4} (base-rate predictor {:.4}), log-loss {:.4}, ECE {:.4}",
        m.rows,
        artifact.metadata.validation.first,
        m.base_rate,
        artifact.metadata.training_base_rate,
        m.auc,
        m.ks,
        m.brier,
        m.brier_reference,
        m.log_loss,
        m.expected_calibration_error
    );
    assert!(m.auc > 0.75, "AUC {}", m.auc);
    // The evaluation report of the same rows, committed under docs/.
    let rows = table.from_time(artifact.metadata.validation.first);
    assert_eq!(rows.len(), m.rows);
    let period = (table.time[rows.start], table.time[rows.end - 1]);
    let (x, labels) = table.part(rows);
    let report = models::report::assess(
        &artifact,
        "IBM accounts-receivable sample: the latest invoices",
        x,
        labels,
        period,
    )
    .expect("report");
    assert_eq!(&report.evaluation, m);
    assert_eq!(report.period.0, "2013-07-13");
    let html = report.html();
    assert!(html.contains("<svg") && html.contains("Risk classes"));
    crate::support::golden("docs/reports/ibm-ar.html", &html);
    assert!(
        m.brier < 0.8 * m.brier_reference,
        "Brier {} against {}",
        m.brier,
        m.brier_reference
    );
}

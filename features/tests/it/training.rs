//! Point-in-time training sets: no row uses an event after its invoice; labels as the
//! options say.

use crate::support::simulated;
use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::compute::concat_batches;
use features::TrainingSetBuilder;
use features::training::{LabelOptions, label};

fn build(events: &[events::Envelope]) -> (RecordBatch, features::TrainingSummary) {
    let (schema, batches, summary) = TrainingSetBuilder::of_events(events).unwrap();
    (concat_batches(&schema, &batches).unwrap(), summary)
}

#[test]
fn no_feature_of_a_training_row_uses_an_event_after_the_rows_time() {
    let events = simulated(120, 8);
    let (full, summary) = build(&events);
    assert_eq!(summary.rows as usize, full.num_rows());
    assert!(summary.rows > 1000, "{summary:?}");
    assert!(
        summary.late > 0 && summary.late < summary.rows,
        "{summary:?}"
    );

    // The same log cut two thirds of the way: every row it has must be the full log's
    // row, feature for feature. Anything from after the cut would make them differ.
    let cut = events.len() * 2 / 3;
    let (truncated, _) = build(&events[..cut]);
    assert!(truncated.num_rows() > 500);
    let label_columns = 2; // days_late, late: observed later by design
    let compared = truncated.num_columns() - label_columns;
    let mut differing_labels = 0;
    for c in 0..truncated.num_columns() {
        let name = truncated.schema().field(c).name().clone();
        let a = truncated.column(c);
        let b = full.column(c).slice(0, truncated.num_rows());
        if c < compared {
            assert_eq!(
                a.as_ref(),
                b.as_ref(),
                "column {name} differs before the cut"
            );
        } else if a.as_ref() != b.as_ref() {
            differing_labels += 1;
        }
    }
    // The labels do look ahead (that is what a label is): the cut log sees fewer outcomes.
    assert!(differing_labels > 0, "the later events change some labels");
}

#[test]
fn labels_follow_late_days_and_horizon() {
    let o = LabelOptions {
        late_days: 30,
        horizon_days: 90,
    };
    // Paid 10 days late: not late. Paid 31 days late: late.
    assert_eq!(label(100, Some(110), 500, o), (Some(false), Some(10)));
    assert_eq!(label(100, Some(131), 500, o), (Some(true), Some(31)));
    // Paid early counts as 0 days late.
    assert_eq!(label(100, Some(95), 500, o), (Some(false), Some(0)));
    // Unpaid at the horizon: late; paid after it: late as well.
    assert_eq!(label(100, None, 190, o), (Some(true), Some(90)));
    assert_eq!(label(100, Some(250), 500, o), (Some(true), Some(90)));
    // Unpaid, the log ends 31 days after the due date: already late.
    assert_eq!(label(100, None, 131, o), (Some(true), None));
    // Unpaid, the log ends within 30 days of the due date: unknown.
    assert_eq!(label(100, None, 120, o), (None, None));
    // Paid on time, but the log ends within 30 days of the due date: not labelled yet
    // either (the late invoices due then are not known yet).
    assert_eq!(label(100, Some(105), 120, o), (None, Some(5)));
    assert_eq!(label(100, Some(105), 131, o), (Some(false), Some(5)));
    let bad = LabelOptions {
        late_days: 30,
        horizon_days: 10,
    };
    assert!(
        bad.validate()
            .unwrap_err()
            .to_string()
            .contains("horizon_days")
    );
}

#[test]
fn the_training_set_schema_leads_with_the_invoice_and_ends_with_the_label() {
    let (set, _) = build(&simulated(10, 2));
    let names: Vec<String> = set
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        &names[..5],
        [
            "invoice_number",
            "debtor_id",
            "issued_at",
            "due_date",
            "amount"
        ]
    );
    assert_eq!(&names[names.len() - 2..], ["days_late", "late"]);
    assert!(names.contains(&"avg_days_late_90d".to_string()));
    assert_eq!(set.column(0).null_count(), 0);
}

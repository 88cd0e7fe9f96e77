//! The same features by a full recomputation: every window's aggregates computed by
//! DataFusion in one query over all facts, no tiles, no merging. The streaming store must
//! give exactly these values for the same facts; tests and `creditstream` checks hold it
//! to that.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Date32Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{Decimal128Type, Int64Type, UInt32Type};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use crate::debtors::DebtorSlots;
use crate::definitions::{Aggregate, AggregateType, Merge};
use crate::engine::{Engine, input_type};
use crate::error::FeatureError;
use crate::facts::{day_date, facts_schema};
use crate::inputs::InputsBuilder;
use crate::standing::StandingSource;
use crate::tiles::Value;

fn select(aggregates: &[&Aggregate], predicate: &str) -> String {
    let columns: Vec<String> = aggregates
        .iter()
        .map(|a| match a.merge {
            Merge::Sum => format!("COALESCE({}, 0) AS \"{}\"", a.sql, a.name),
            _ => format!("{} AS \"{}\"", a.sql, a.name),
        })
        .collect();
    format!(
        "SELECT debtor, {} FROM facts WHERE {predicate} GROUP BY debtor",
        columns.join(", ")
    )
}

fn empty_value(a: &Aggregate) -> Value {
    match (a.merge, a.kind) {
        (Merge::Sum, AggregateType::Money) => Value::Money(0),
        (Merge::Sum, _) => Value::Int(0),
        _ => Value::Null,
    }
}

fn run(
    ctx: &SessionContext,
    sql: &str,
    aggregates: &[&Aggregate],
) -> Result<HashMap<u32, Vec<Value>>, FeatureError> {
    let batches = futures::executor::block_on(async { ctx.sql(sql).await?.collect().await })
        .map_err(FeatureError::engine("recomputing aggregates"))?;
    let mut out = HashMap::new();
    for batch in batches {
        let debtors = batch.column(0).as_primitive::<UInt32Type>().clone();
        let mut columns = Vec::new();
        for (i, a) in aggregates.iter().enumerate() {
            columns.push(
                cast(batch.column(1 + i), &input_type(a.kind))
                    .map_err(FeatureError::arrow("recomputing aggregates"))?,
            );
        }
        for row in 0..batch.num_rows() {
            let values = aggregates
                .iter()
                .zip(&columns)
                .map(|(a, c)| {
                    if c.is_null(row) {
                        Value::Null
                    } else if a.kind == AggregateType::Money {
                        Value::Money(c.as_primitive::<Decimal128Type>().value(row))
                    } else {
                        Value::Int(c.as_primitive::<Int64Type>().value(row))
                    }
                })
                .collect();
            out.insert(debtors.value(row), values);
        }
    }
    Ok(out)
}

/// The feature inputs and features of `debtors` (slots) on `today`, recomputed from all
/// `facts`.
pub fn recompute(
    engine: &Engine,
    slots: &DebtorSlots,
    facts: &[RecordBatch],
    debtors: &[u32],
    today: i32,
    standing: &dyn StandingSource,
) -> Result<(RecordBatch, RecordBatch), FeatureError> {
    let definitions = engine.definitions();
    let ctx = crate::engine::session();
    let table = MemTable::try_new(facts_schema(), vec![facts.to_vec()])
        .map_err(FeatureError::engine("registering all facts"))?;
    ctx.register_table("facts", Arc::new(table))
        .map_err(FeatureError::engine("registering all facts"))?;

    let windowed: Vec<&Aggregate> = definitions.windowed().collect();
    let lifetime: Vec<&Aggregate> = definitions.lifetime().collect();
    let mut per_window = Vec::new();
    for w in &definitions.windows {
        per_window.push(run(
            &ctx,
            &select(&windowed, &w.sql_predicate(today)),
            &windowed,
        )?);
    }
    let lifetime_values = if lifetime.is_empty() {
        HashMap::new()
    } else {
        run(
            &ctx,
            &select(&lifetime, &format!("day <= {today}")),
            &lifetime,
        )?
    };

    let mut builder = InputsBuilder::new(engine.inputs_schema().clone(), definitions.windows.len());
    let date = day_date(today);
    let mut values = Vec::new();
    for &slot in debtors {
        values.clear();
        for window in &per_window {
            match window.get(&slot) {
                Some(v) => values.extend_from_slice(v),
                None => values.extend(windowed.iter().map(|a| empty_value(a))),
            }
        }
        match lifetime_values.get(&slot) {
            Some(v) => values.extend_from_slice(v),
            None => values.extend(lifetime.iter().map(|a| empty_value(a))),
        }
        let s = standing.standing(slots.id(slot), date, &definitions.windows);
        builder.push(today, &values, &s);
    }
    let inputs = builder.finish()?;
    let ids: StringArray = debtors.iter().map(|&s| Some(slots.id(s))).collect();
    let as_of = Date32Array::from(vec![today; debtors.len()]);
    let features = engine.evaluate(Arc::new(ids), Arc::new(as_of), &inputs)?;
    Ok((inputs, features))
}

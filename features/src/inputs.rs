//! The feature inputs as an Arrow batch, one row per debtor: `today`, the windowed and
//! lifetime aggregates, the standing. The streaming store and the full recomputation both
//! build it here, so features are evaluated over the same columns either way.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Decimal128Builder, Int32Builder, Int64Builder, RecordBatch, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, SchemaRef};

use crate::error::FeatureError;
use crate::facts::{MONEY_PRECISION, MONEY_SCALE, money_mantissa};
use crate::standing::StandingInputs;
use crate::tiles::Value;

enum Column {
    Int32(Int32Builder),
    Int64(Int64Builder),
    Money(Decimal128Builder),
    Utf8(StringBuilder),
}

impl Column {
    fn for_type(data_type: &DataType) -> Column {
        match data_type {
            DataType::Int32 => Column::Int32(Int32Builder::new()),
            DataType::Int64 => Column::Int64(Int64Builder::new()),
            DataType::Utf8 => Column::Utf8(StringBuilder::new()),
            _ => Column::Money(Decimal128Builder::new()),
        }
    }

    fn push_value(&mut self, v: Value) {
        match (self, v) {
            (Column::Int64(b), Value::Int(v)) => b.append_value(v),
            (Column::Int64(b), _) => b.append_null(),
            (Column::Money(b), Value::Money(v)) => b.append_value(v),
            (Column::Money(b), _) => b.append_null(),
            (Column::Int32(b), Value::Int(v)) => b.append_value(v as i32),
            (Column::Int32(b), _) => b.append_null(),
            (Column::Utf8(b), _) => b.append_null(),
        }
    }

    fn push_money(&mut self, v: Option<rust_decimal::Decimal>) {
        self.push_value(v.map_or(Value::Null, |d| Value::Money(money_mantissa(d))));
    }

    fn push_int(&mut self, v: Option<i64>) {
        self.push_value(v.map_or(Value::Null, Value::Int));
    }

    fn push_str(&mut self, v: Option<&str>) {
        if let Column::Utf8(b) = self {
            b.append_option(v);
        }
    }

    fn finish(&mut self) -> Result<ArrayRef, FeatureError> {
        Ok(match self {
            Column::Int32(b) => Arc::new(b.finish()),
            Column::Int64(b) => Arc::new(b.finish()),
            Column::Utf8(b) => Arc::new(b.finish()),
            Column::Money(b) => Arc::new(
                b.finish()
                    .with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE)
                    .map_err(FeatureError::arrow("building feature inputs"))?,
            ),
        })
    }
}

/// Builds the feature inputs row by row.
pub struct InputsBuilder {
    schema: SchemaRef,
    columns: Vec<Column>,
    windows: usize,
}

impl InputsBuilder {
    /// A builder for `schema` (the engine's inputs schema) with `windows` windows.
    pub fn new(schema: SchemaRef, windows: usize) -> InputsBuilder {
        let columns = schema
            .fields()
            .iter()
            .map(|f| Column::for_type(f.data_type()))
            .collect();
        InputsBuilder {
            schema,
            columns,
            windows,
        }
    }

    /// Appends one debtor: `aggregates` holds the windowed values window after window,
    /// then the lifetime values, in schema order.
    pub fn push(&mut self, today: i32, aggregates: &[Value], standing: &StandingInputs) {
        let mut cols = self.columns.iter_mut();
        let mut next = || cols.next();
        if let Some(c) = next() {
            c.push_value(Value::Int(i64::from(today)));
        }
        for &v in aggregates {
            if let Some(c) = next() {
                c.push_value(v);
            }
        }
        for v in [
            standing.open_balance,
            standing.overdue_balance,
            standing.unapplied_credit,
        ] {
            if let Some(c) = next() {
                c.push_money(Some(v));
            }
        }
        for w in 0..self.windows {
            if let Some(c) = next() {
                c.push_money(Some(
                    standing.overdue_over.get(w).copied().unwrap_or_default(),
                ));
            }
        }
        if let Some(c) = next() {
            c.push_int(Some(standing.open_items));
        }
        if let Some(c) = next() {
            c.push_int(Some(standing.overdue_items));
        }
        if let Some(c) = next() {
            c.push_int(standing.oldest_overdue_days);
        }
        if let Some(c) = next() {
            c.push_money(standing.credit_limit);
        }
        if let Some(c) = next() {
            c.push_str(standing.bureau_rating.as_deref());
        }
        if let Some(c) = next() {
            c.push_money(standing.bureau_pd);
        }
        if let Some(c) = next() {
            c.push_str(standing.debtor_type);
        }
    }

    /// The rows as a batch.
    pub fn finish(mut self) -> Result<RecordBatch, FeatureError> {
        let columns = self
            .columns
            .iter_mut()
            .map(Column::finish)
            .collect::<Result<Vec<_>, _>>()?;
        RecordBatch::try_new(self.schema, columns)
            .map_err(FeatureError::arrow("building feature inputs"))
    }
}

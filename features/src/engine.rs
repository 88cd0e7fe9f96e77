//! The compiled definitions: the partial-aggregate query planned once by DataFusion over a
//! `facts` table whose rows are swapped per micro-batch, and each feature's SQL compiled
//! once into a physical expression over the feature inputs.
//!
//! The plan runs on one partition (no repartitioning, no spawned tasks), so it executes
//! inside the caller's thread: the feature stage stays a plain library.

use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::can_cast_types;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::common::DFSchema;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, collect,
};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::definitions::{Aggregate, AggregateType, Definitions, Feature};
use crate::error::FeatureError;
use crate::facts::{facts_schema, money_type};

/// The facts of the batch being aggregated; the planned query reads them on execution.
#[derive(Debug)]
struct BatchSlot {
    schema: SchemaRef,
    batch: Mutex<Option<RecordBatch>>,
}

impl PartitionStream for BatchSlot {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batch = self.batch.lock().map(|mut b| b.take()).unwrap_or(None);
        Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            futures::stream::iter(batch.map(Ok)),
        ))
    }
}

/// The leaf that replaces the planned scan of `facts`: it hands out the slot's batch,
/// projected to the scan's columns, without DataFusion's cooperative-scheduling wrapper.
/// That wrapper asks the async runtime for a budget; inside a runtime's task whose budget
/// is spent (the caller is itself busy in a task) the plan, run here to completion in the
/// caller's thread, would never get one.
#[derive(Debug)]
struct SlotExec {
    slot: Arc<BatchSlot>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl DisplayAs for SlotExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "FactsBatchExec")
    }
}

impl ExecutionPlan for SlotExec {
    fn name(&self) -> &str {
        "FactsBatchExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> datafusion::error::Result<TreeNodeRecursion>,
    ) -> datafusion::error::Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        _partition: usize,
        _context: Arc<TaskContext>,
    ) -> datafusion::error::Result<SendableRecordBatchStream> {
        let schema = self.schema.clone();
        let batch = self.slot.batch.lock().map(|mut b| b.take()).unwrap_or(None);
        let batch = match batch {
            Some(b) => {
                let indices = schema
                    .fields()
                    .iter()
                    .map(|f| b.schema().index_of(f.name()))
                    .collect::<Result<Vec<_>, _>>()?;
                Some(b.project(&indices)?)
            }
            None => None,
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            futures::stream::iter(batch.map(Ok)),
        )))
    }
}

/// The planned partial aggregates with the scan of `facts` replaced by [`SlotExec`].
fn without_cooperative_scan(
    plan: Arc<dyn ExecutionPlan>,
    slot: &Arc<BatchSlot>,
) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        if node.is::<StreamingTableExec>() {
            let leaf: Arc<dyn ExecutionPlan> = Arc::new(SlotExec {
                slot: slot.clone(),
                schema: node.schema(),
                properties: node.properties().clone(),
            });
            Ok(Transformed::yes(leaf))
        } else {
            Ok(Transformed::no(node))
        }
    })
    .data()
}

/// The type a windowed or lifetime aggregate has among the feature inputs.
pub fn input_type(kind: AggregateType) -> DataType {
    match kind {
        AggregateType::Count | AggregateType::Days => DataType::Int64,
        AggregateType::Money => money_type(),
    }
}

/// Definitions compiled for execution.
pub struct Engine {
    definitions: Definitions,
    slot: Arc<BatchSlot>,
    partial: Arc<dyn ExecutionPlan>,
    task: Arc<TaskContext>,
    inputs: SchemaRef,
    features: Vec<Arc<dyn PhysicalExpr>>,
    output: SchemaRef,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("source", &self.definitions.source)
            .field("aggregates", &self.definitions.aggregates.len())
            .field("features", &self.features.len())
            .finish()
    }
}

pub(crate) fn session() -> SessionContext {
    let config = SessionConfig::new()
        .with_target_partitions(1)
        .with_batch_size(64 * 1024)
        .with_information_schema(false);
    SessionContext::new_with_config(config)
}

/// The SQL of the partial aggregates: one row per debtor and day.
pub fn partial_sql(aggregates: &[Aggregate]) -> String {
    let columns: Vec<String> = aggregates
        .iter()
        .map(|a| format!("{} AS \"{}\"", a.sql, a.name))
        .collect();
    format!(
        "SELECT debtor, day, {} FROM facts GROUP BY debtor, day",
        columns.join(", ")
    )
}

impl Engine {
    /// Compiles the definitions; a definition that does not compile is refused with its
    /// name, its line and DataFusion's message.
    pub fn new(definitions: Definitions) -> Result<Engine, FeatureError> {
        let ctx = session();
        let slot = Arc::new(BatchSlot {
            schema: facts_schema(),
            batch: Mutex::new(None),
        });
        let table = StreamingTable::try_new(facts_schema(), vec![slot.clone()])
            .map_err(FeatureError::engine("registering the facts table"))?;
        ctx.register_table("facts", Arc::new(table))
            .map_err(FeatureError::engine("registering the facts table"))?;

        let sql_error = |what: &'static str, name: &str, line: usize, message: String| {
            FeatureError::DefinitionSql {
                file: definitions.source.clone(),
                line,
                what,
                name: name.to_owned(),
                message,
            }
        };
        // Each aggregate on its own first, so an error names the one at fault.
        for a in &definitions.aggregates {
            let plan = futures::executor::block_on(async {
                let df = ctx.sql(&partial_sql(std::slice::from_ref(a))).await?;
                df.create_physical_plan().await
            })
            .map_err(|e| sql_error("aggregate", &a.name, a.line, e.to_string()))?;
            let produced = plan.schema().field(2).data_type().clone();
            let wanted = input_type(a.kind);
            let fits = match a.kind {
                AggregateType::Money => {
                    matches!(produced, DataType::Decimal128(..)) || produced.is_integer()
                }
                _ => produced.is_integer(),
            };
            if !fits || !can_cast_types(&produced, &wanted) {
                return Err(sql_error(
                    "aggregate",
                    &a.name,
                    a.line,
                    format!("gives {produced}, which is not a {:?} value", a.kind),
                ));
            }
        }
        let partial = futures::executor::block_on(async {
            let df = ctx.sql(&partial_sql(&definitions.aggregates)).await?;
            df.create_physical_plan().await
        })
        .map_err(FeatureError::engine("planning the partial aggregates"))?;
        let partial = without_cooperative_scan(partial, &slot)
            .map_err(FeatureError::engine("planning the partial aggregates"))?;

        let inputs = inputs_schema(&definitions);
        let df_schema = DFSchema::try_from(inputs.as_ref().clone())
            .map_err(FeatureError::engine("building the feature inputs schema"))?;
        let mut features = Vec::new();
        let mut fields = vec![
            Field::new("debtor_id", DataType::Utf8, false),
            Field::new("as_of", DataType::Date32, false),
        ];
        for Feature { name, sql, line } in &definitions.features {
            let compiled = ctx
                .parse_sql_expr(sql, &df_schema)
                .and_then(|expr| ctx.create_physical_expr(expr, &df_schema))
                .map_err(|e| sql_error("feature", name, *line, e.to_string()))?;
            let data_type = compiled
                .data_type(&inputs)
                .map_err(|e| sql_error("feature", name, *line, e.to_string()))?;
            fields.push(Field::new(name, data_type, true));
            features.push(compiled);
        }
        Ok(Engine {
            definitions,
            slot,
            partial,
            task: ctx.task_ctx(),
            inputs,
            features,
            output: Arc::new(Schema::new(fields)),
        })
    }

    /// The definitions compiled.
    pub fn definitions(&self) -> &Definitions {
        &self.definitions
    }

    /// The schema features are computed from.
    pub fn inputs_schema(&self) -> &SchemaRef {
        &self.inputs
    }

    /// The schema of computed features: `debtor_id`, `as_of`, then every feature.
    pub fn output_schema(&self) -> &SchemaRef {
        &self.output
    }

    /// Runs the planned partial aggregates over one batch of facts: one row per debtor and
    /// day, columns `debtor`, `day`, then each aggregate in definition order.
    pub fn partial_aggregates(&self, facts: RecordBatch) -> Result<Vec<RecordBatch>, FeatureError> {
        if facts.num_rows() == 0 {
            return Ok(Vec::new());
        }
        if let Ok(mut slot) = self.slot.batch.lock() {
            *slot = Some(facts);
        }
        futures::executor::block_on(collect(self.partial.clone(), self.task.clone()))
            .map_err(FeatureError::engine("running the partial aggregates"))
    }

    /// Evaluates every feature over a batch of inputs (one row per debtor).
    pub fn evaluate(
        &self,
        debtor_ids: ArrayRef,
        as_of: ArrayRef,
        inputs: &RecordBatch,
    ) -> Result<RecordBatch, FeatureError> {
        let rows = inputs.num_rows();
        let mut columns = vec![debtor_ids, as_of];
        for expr in &self.features {
            let value = expr
                .evaluate(inputs)
                .and_then(|v| v.into_array(rows))
                .map_err(FeatureError::engine("evaluating features"))?;
            columns.push(value);
        }
        RecordBatch::try_new(self.output.clone(), columns)
            .map_err(FeatureError::arrow("assembling features"))
    }
}

/// The feature inputs: `today`, the aggregates per window and over all time, then the
/// standing (see `definitions.toml`).
pub fn inputs_schema(definitions: &Definitions) -> SchemaRef {
    let mut fields = vec![Field::new("today", DataType::Int32, false)];
    for w in &definitions.windows {
        for a in definitions.windowed() {
            fields.push(Field::new(
                format!("{}_{}", a.name, w.name),
                input_type(a.kind),
                a.merge != crate::definitions::Merge::Sum,
            ));
        }
    }
    for a in definitions.lifetime() {
        fields.push(Field::new(
            a.name.clone(),
            input_type(a.kind),
            a.merge != crate::definitions::Merge::Sum,
        ));
    }
    fields.push(Field::new("open_balance", money_type(), false));
    fields.push(Field::new("overdue_balance", money_type(), false));
    fields.push(Field::new("unapplied_credit", money_type(), false));
    for w in &definitions.windows {
        fields.push(Field::new(
            format!("overdue_balance_{}", w.name),
            money_type(),
            false,
        ));
    }
    fields.push(Field::new("open_items", DataType::Int64, false));
    fields.push(Field::new("overdue_items", DataType::Int64, false));
    fields.push(Field::new("oldest_overdue_days", DataType::Int64, true));
    fields.push(Field::new("credit_limit", money_type(), true));
    fields.push(Field::new("bureau_rating", DataType::Utf8, true));
    fields.push(Field::new("bureau_pd", money_type(), true));
    fields.push(Field::new("debtor_type", DataType::Utf8, true));
    Arc::new(Schema::new(fields))
}

//! The task list: every task published and not closed, and the recently closed ones.
//! People close tasks through the HTTP API, which publishes a `task_closed` event into the
//! log (who and why: the audit trail); the list closes the task when that event is
//! decided on, so a replay closes it at the same point. A resolved dispute closes its
//! review task the same way, and a phone call closes once every invoice it is about is
//! settled. Closed tasks stay listed for a configured number of days of
//! event time.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Days, Utc};
use events::{Money, OutputEnvelope, Task, TaskClosure, TaskKind};
use serde::{Deserialize, Serialize};

/// A task as the list keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// The task's `output_id`.
    pub task_id: String,
    /// Why a person has to look.
    pub kind: TaskKind,
    /// The debtor concerned, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debtor_id: Option<String>,
    /// Event time it was opened.
    pub opened_at: DateTime<Utc>,
    /// What to decide.
    pub summary: String,
    /// Payment concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    /// Amount concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// Candidate debtors or invoices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<String>,
    /// Invoices concerned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invoice_numbers: Vec<String>,
    /// How it was closed, once it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Closed>,
}

/// Who closed a task, when and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closed {
    /// Who (a person, or the event that settled it).
    pub closed_by: String,
    /// What was decided.
    pub reason: String,
    /// Event time of the closing.
    pub closed_at: DateTime<Utc>,
    /// The input event that closed it.
    pub event_id: String,
}

/// Which tasks to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// Open (`Some(true)`), closed (`Some(false)`) or both (`None`).
    pub open: Option<bool>,
    /// Only this kind.
    pub kind: Option<TaskKind>,
    /// Only this debtor.
    pub debtor_id: Option<String>,
}

impl TaskFilter {
    fn admits(&self, t: &TaskRecord) -> bool {
        self.kind.is_none_or(|k| k == t.kind)
            && self
                .debtor_id
                .as_deref()
                .is_none_or(|d| t.debtor_id.as_deref() == Some(d))
    }
}

/// Open and recently closed tasks.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(from = "TaskListState")]
pub struct TaskList {
    open: BTreeMap<String, TaskRecord>,
    closed: BTreeMap<String, TaskRecord>,
    /// (closed at, task id), to drop closed tasks after the retention.
    closed_order: BTreeSet<(DateTime<Utc>, String)>,
    /// Open tasks by the invoices they are about. Rebuilt on loading.
    #[serde(skip)]
    by_invoice: BTreeMap<String, BTreeSet<String>>,
    /// Open phone calls loaded from a checkpoint, to check once against the ledger: a
    /// build before calls closed by themselves may have left some whose invoices are
    /// all paid.
    #[serde(skip)]
    calls_to_check: Vec<String>,
}

/// The state, not the transient indices and checks.
impl PartialEq for TaskList {
    fn eq(&self, other: &Self) -> bool {
        self.open == other.open
            && self.closed == other.closed
            && self.closed_order == other.closed_order
    }
}

/// The list as written.
#[derive(Deserialize)]
struct TaskListState {
    open: BTreeMap<String, TaskRecord>,
    closed: BTreeMap<String, TaskRecord>,
    closed_order: BTreeSet<(DateTime<Utc>, String)>,
}

impl From<TaskListState> for TaskList {
    fn from(state: TaskListState) -> Self {
        let mut list = TaskList {
            open: BTreeMap::new(),
            closed: state.closed,
            closed_order: state.closed_order,
            by_invoice: BTreeMap::new(),
            calls_to_check: Vec::new(),
        };
        for (id, task) in state.open {
            list.list_by_invoice(&task);
            if task.kind == TaskKind::PhoneCall {
                list.calls_to_check.push(id.clone());
            }
            list.open.insert(id, task);
        }
        list
    }
}

impl TaskList {
    /// Records the tasks among `outputs` (closures included).
    pub(crate) fn record(&mut self, outputs: &[OutputEnvelope]) {
        for o in outputs {
            let events::Output::Task(t) = &o.output else {
                continue;
            };
            if t.closure.is_some() {
                continue;
            }
            let task = TaskRecord {
                task_id: o.output_id.clone(),
                kind: t.kind,
                debtor_id: o.debtor_id.clone(),
                opened_at: o.event_time,
                summary: t.summary.clone(),
                payment_id: t.payment_id.clone(),
                amount: t.amount,
                candidates: t.candidates.clone(),
                invoice_numbers: t.invoice_numbers.clone(),
                closed: None,
            };
            self.list_by_invoice(&task);
            self.open.insert(o.output_id.clone(), task);
        }
    }

    /// Lists an open task under the invoices it is about.
    fn list_by_invoice(&mut self, task: &TaskRecord) {
        for invoice in &task.invoice_numbers {
            self.by_invoice
                .entry(invoice.clone())
                .or_default()
                .insert(task.task_id.clone());
        }
    }

    /// The open phone calls loaded from a checkpoint and not yet checked (once).
    pub(crate) fn take_calls_to_check(&mut self) -> Vec<String> {
        std::mem::take(&mut self.calls_to_check)
    }

    /// Closes an open task; returns the task (as it now is), or `None` when no open task
    /// has that id.
    pub(crate) fn close(&mut self, task_id: &str, closed: Closed) -> Option<&TaskRecord> {
        let mut task = self.open.remove(task_id)?;
        for invoice in &task.invoice_numbers {
            if let Some(ids) = self.by_invoice.get_mut(invoice) {
                ids.remove(task_id);
                if ids.is_empty() {
                    self.by_invoice.remove(invoice);
                }
            }
        }
        self.closed_order
            .insert((closed.closed_at, task_id.to_owned()));
        task.closed = Some(closed);
        self.closed.insert(task_id.to_owned(), task);
        self.closed.get(task_id)
    }

    /// Open tasks of `kind` about an invoice, in task-id order.
    pub(crate) fn open_about(&self, kind: TaskKind, invoice_number: &str) -> Vec<String> {
        self.by_invoice
            .get(invoice_number)
            .into_iter()
            .flatten()
            .filter(|id| self.open.get(*id).is_some_and(|t| t.kind == kind))
            .cloned()
            .collect()
    }

    /// Forgets tasks closed more than `days` before `now`.
    pub(crate) fn prune(&mut self, now: DateTime<Utc>, days: u32) {
        let Some(cutoff) = now.checked_sub_days(Days::new(u64::from(days))) else {
            return;
        };
        while let Some((at, id)) = self.closed_order.first().cloned() {
            if at >= cutoff {
                break;
            }
            self.closed_order.pop_first();
            self.closed.remove(&id);
        }
    }

    /// A task by id, open or recently closed.
    pub fn get(&self, task_id: &str) -> Option<&TaskRecord> {
        self.open.get(task_id).or_else(|| self.closed.get(task_id))
    }

    /// Tasks passing the filter: open ones first, each group oldest first.
    pub fn list(&self, filter: &TaskFilter) -> Vec<&TaskRecord> {
        let mut out: Vec<&TaskRecord> = Vec::new();
        if filter.open != Some(false) {
            out.extend(self.open.values().filter(|t| filter.admits(t)));
        }
        let open_len = out.len();
        if filter.open != Some(true) {
            out.extend(self.closed.values().filter(|t| filter.admits(t)));
        }
        out[..open_len].sort_by(|a, b| (a.opened_at, &a.task_id).cmp(&(b.opened_at, &b.task_id)));
        out[open_len..].sort_by(|a, b| (a.opened_at, &a.task_id).cmp(&(b.opened_at, &b.task_id)));
        out
    }

    /// Open tasks by kind.
    pub fn open_counts(&self) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for t in self.open.values() {
            *counts.entry(t.kind.as_str().to_owned()).or_insert(0) += 1;
        }
        counts
    }
}

/// The output that tells every task list a task is closed: a task of the same kind with
/// its closure.
pub(crate) fn closure_output(task: &TaskRecord, closed: &Closed) -> Task {
    Task {
        kind: task.kind,
        summary: format!(
            "Task {} closed by {}: {}",
            task.task_id, closed.closed_by, closed.reason
        ),
        payment_id: task.payment_id.clone(),
        amount: task.amount,
        candidates: Vec::new(),
        invoice_numbers: task.invoice_numbers.clone(),
        closure: Some(TaskClosure {
            task_id: task.task_id.clone(),
            closed_by: closed.closed_by.clone(),
            reason: closed.reason.clone(),
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn call(id: &str, invoices: &[&str]) -> OutputEnvelope {
        OutputEnvelope {
            schema_version: events::CURRENT_SCHEMA_VERSION,
            output_id: id.into(),
            event_time: DateTime::from_timestamp(1_767_225_600, 0).unwrap(),
            cause_event_id: "e1".into(),
            debtor_id: Some("D1".into()),
            output: events::Output::Task(Task {
                kind: TaskKind::PhoneCall,
                summary: "call".into(),
                payment_id: None,
                amount: None,
                candidates: Vec::new(),
                invoice_numbers: invoices.iter().map(|s| (*s).to_owned()).collect(),
                closure: None,
            }),
        }
    }

    #[test]
    fn open_tasks_are_indexed_by_invoice_and_the_index_is_rebuilt_on_loading() {
        let mut list = TaskList::default();
        list.record(&[
            call("phone_call:e1:A", &["A", "B"]),
            call("phone_call:e2:C", &["C"]),
        ]);
        assert_eq!(
            list.open_about(TaskKind::PhoneCall, "B"),
            ["phone_call:e1:A"]
        );
        let written = serde_json::to_string(&list).unwrap();
        assert!(!written.contains("by_invoice"), "{written}");
        let mut restored: TaskList = serde_json::from_str(&written).unwrap();
        assert_eq!(restored, list);
        assert_eq!(restored.by_invoice, list.by_invoice);
        assert_eq!(
            restored.take_calls_to_check(),
            ["phone_call:e1:A", "phone_call:e2:C"]
        );
        assert!(restored.take_calls_to_check().is_empty());
        let closed = Closed {
            closed_by: "settled".into(),
            reason: "paid".into(),
            closed_at: DateTime::from_timestamp(1_767_312_000, 0).unwrap(),
            event_id: "e9".into(),
        };
        assert!(list.close("phone_call:e1:A", closed).is_some());
        assert!(list.open_about(TaskKind::PhoneCall, "A").is_empty());
        assert!(list.open_about(TaskKind::PhoneCall, "B").is_empty());
        assert_eq!(
            list.open_about(TaskKind::PhoneCall, "C"),
            ["phone_call:e2:C"]
        );
    }
}

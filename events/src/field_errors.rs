//! Which field of an event's `data` a decoding error came from.
//!
//! serde_json's messages name the value (`invalid amount "abc"`) and a column, not the
//! field. On the error path only, the decoder reads `data` again through a map access that
//! remembers the key it is at, so the dead-letter detail can say `amount`.

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::input::*;

/// Decodes `data` as `kind` again, field by field. `None` when this pass succeeds (the first
/// failure was not about one field, e.g. a duplicate key); otherwise the error and the field
/// being read when it happened (`None` for errors about the whole object, such as a missing
/// field, whose message names the field itself).
pub(crate) fn locate(kind: EventKind, data: &str) -> Option<(Option<String>, serde_json::Error)> {
    match kind {
        EventKind::DebtorUpdated => locate_in::<DebtorUpdated>(data),
        EventKind::InvoiceIssued => locate_in::<InvoiceIssued>(data),
        EventKind::PaymentReceived => locate_in::<PaymentReceived>(data),
        EventKind::PaymentReversed => locate_in::<PaymentReversed>(data),
        EventKind::CreditNoteIssued => locate_in::<CreditNoteIssued>(data),
        EventKind::DisputeOpened => locate_in::<DisputeOpened>(data),
        EventKind::DisputeResolved => locate_in::<DisputeResolved>(data),
        EventKind::PromiseToPay => locate_in::<PromiseToPay>(data),
        EventKind::BureauRating => locate_in::<BureauRating>(data),
        EventKind::ClockTick => locate_in::<ClockTick>(data),
        EventKind::ModelActivated => locate_in::<ModelActivated>(data),
        EventKind::StrategyActivated => locate_in::<StrategyActivated>(data),
        EventKind::TaskClosed => locate_in::<TaskClosed>(data),
        EventKind::LimitOverride => locate_in::<LimitOverride>(data),
    }
}

fn locate_in<T: DeserializeOwned>(data: &str) -> Option<(Option<String>, serde_json::Error)> {
    let map: Map<String, Value> = serde_json::from_str(data).ok()?;
    let mut current = None;
    let result = T::deserialize(Fields {
        map,
        current: &mut current,
    });
    result.err().map(|e| (current, e))
}

/// A JSON object as a deserializer that records the key being read in `current`.
struct Fields<'a> {
    map: Map<String, Value>,
    current: &'a mut Option<String>,
}

impl<'de> de::Deserializer<'de> for Fields<'_> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(Entries {
            entries: self.map.into_iter(),
            value: None,
            current: self.current,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

struct Entries<'a> {
    entries: serde_json::map::IntoIter,
    value: Option<Value>,
    current: &'a mut Option<String>,
}

impl<'de> MapAccess<'de> for Entries<'_> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.entries.next() {
            Some((key, value)) => {
                *self.current = Some(key.clone());
                self.value = Some(value);
                seed.deserialize(key.into_deserializer()).map(Some)
            }
            None => {
                // Past the last key: what fails now is about the whole object.
                *self.current = None;
                Ok(None)
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        seed.deserialize(self.value.take().unwrap_or(Value::Null))
    }
}

//! Integration tests of the event contract, in one binary (see STYLE.md).
//!
//! - `examples`: valid examples of every input kind and output family, and tools to spoil
//!   them one field at a time;
//! - `round_trip`: valid events decode and read back exactly;
//! - `dead_letters`: each kind of bad input gets its reason, a detail naming the field and
//!   the event id;
//! - `properties`: proptest round trips and decoder robustness;
//! - `subjects`: partitioning and subject shapes;
//! - `docs`: `docs/events.md` matches the code (generated examples, field tables).

mod dead_letters;
mod docs;
mod examples;
mod properties;
mod round_trip;
mod subjects;

//! Bank statement parsing into events.

//! Integration tests of the simulator: one test binary, one module per concern.

mod support;

mod behaviours;
mod cash_application;
mod config;
mod contract;
mod determinism;
mod golden;
mod mix;
mod properties;
mod responses;
mod scale;
mod truth;

//! Integration tests of the models crate (one binary).

mod calibration;
mod classes;
mod logistic;
mod metrics;
mod support;

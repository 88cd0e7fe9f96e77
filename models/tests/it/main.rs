//! Integration tests of the models crate (one binary).

mod boosting;
mod calibration;
mod classes;
mod logistic;
mod metrics;
mod real_data;
mod support;
mod training;

//! Integration tests of the models crate (one binary).

mod boosting;
mod calibration;
mod classes;
mod drift;
mod limits;
mod logistic;
mod metrics;
mod real_data;
mod support;
mod training;

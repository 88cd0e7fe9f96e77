//! Late-payer risk, risk classes and credit-limit models.
//!
//! This stage sits between features and decisions. Training, evaluation, calibration, the
//! credit-limit policy and the registry format are not built yet; until a model is active
//! the pipeline publishes score updates without a probability or risk class.

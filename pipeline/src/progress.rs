//! Progress display: a counter on a terminal, nothing when the output is a pipe or file.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A spinner counting items, with a rate.
pub fn counter(what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {human_pos} events ({per_sec}) {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(what.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

//! The training progress bar.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const TEMPLATE: &str =
    "{spinner} epoch {msg} [{bar:30}] {pos}/{len} batches, {elapsed} (eta {eta})";

/// A bar over `len` mini-batches on stderr, hidden when `quiet` or when stderr is not a
/// terminal (logs and CI stay clean).
pub(crate) fn bar(len: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(TEMPLATE) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_parses_and_quiet_bars_are_hidden() {
        assert!(ProgressStyle::with_template(TEMPLATE).is_ok());
        assert!(bar(10, true).is_hidden());
    }
}

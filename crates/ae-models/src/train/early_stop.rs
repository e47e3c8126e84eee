//! Early stopping on a monitored loss.

use serde::{Deserialize, Serialize};

/// What [`EarlyStopping::observe`] concluded about an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// The loss beat the best so far by more than `min_delta`: keep these weights.
    Improved,
    /// No improvement, patience not yet exhausted.
    Wait,
    /// No improvement for `patience` epochs in a row: stop.
    Stop,
}

/// Tracks the best loss and how long ago it was seen.
///
/// ```
/// use ae_models::train::{EarlyStopping, Verdict};
/// let mut es = EarlyStopping::new(Some(2), 0.0);
/// assert_eq!(es.observe(1.0), Verdict::Improved);
/// assert_eq!(es.observe(1.5), Verdict::Wait);
/// assert_eq!(es.observe(0.5), Verdict::Improved);
/// assert_eq!(es.observe(0.5), Verdict::Wait);
/// assert_eq!(es.observe(0.6), Verdict::Stop);
/// assert_eq!(es.best(), Some((3, 0.5)));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    patience: Option<usize>,
    min_delta: f64,
    epoch: usize,
    best: Option<(usize, f64)>,
    since_best: usize,
}

impl EarlyStopping {
    /// Stops after `patience` epochs without an improvement larger than `min_delta`
    /// (`None`: never stops, but still tracks the best epoch).
    pub fn new(patience: Option<usize>, min_delta: f64) -> Self {
        EarlyStopping {
            patience,
            min_delta,
            epoch: 0,
            best: None,
            since_best: 0,
        }
    }

    /// Records the loss of the next epoch. A NaN loss never counts as an improvement.
    pub fn observe(&mut self, loss: f64) -> Verdict {
        self.epoch += 1;
        let improved = match self.best {
            None => !loss.is_nan(),
            Some((_, best)) => loss < best - self.min_delta,
        };
        if improved {
            self.best = Some((self.epoch, loss));
            self.since_best = 0;
            return Verdict::Improved;
        }
        self.since_best += 1;
        match self.patience {
            Some(p) if self.since_best >= p => Verdict::Stop,
            _ => Verdict::Wait,
        }
    }

    /// The best epoch (1-based) and its loss.
    pub fn best(&self) -> Option<(usize, f64)> {
        self.best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_delta_and_no_patience() {
        let mut es = EarlyStopping::new(None, 0.1);
        assert_eq!(es.observe(1.0), Verdict::Improved);
        for _ in 0..10 {
            assert_eq!(es.observe(0.95), Verdict::Wait);
        }
        assert_eq!(es.observe(0.85), Verdict::Improved);
        assert_eq!(es.best(), Some((12, 0.85)));
    }

    #[test]
    fn zero_patience_stops_at_the_first_miss_and_nan_never_improves() {
        let mut es = EarlyStopping::new(Some(0), 0.0);
        assert_eq!(es.observe(f64::NAN), Verdict::Stop);
        assert_eq!(es.best(), None);
        assert_eq!(es.observe(2.0), Verdict::Improved);
        assert_eq!(es.observe(2.0), Verdict::Stop);
    }
}

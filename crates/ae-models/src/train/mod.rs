//! One trainer for every model: Adam, shuffled mini-batches, a validation split taken
//! from the end of the data, early stopping with best-weights restore, gradient-norm
//! clipping, a progress bar, a check that the trained model's output depends on its input,
//! and a serialisable summary.

mod collapse;
mod config;
mod early_stop;
mod progress;
mod trainable_detector;
mod trainer;

pub use collapse::CollapseCheck;
pub use config::TrainConfig;
pub use early_stop::{EarlyStopping, Verdict};
pub use trainable_detector::TrainableDetector;
pub use trainer::{train, train_array, StopReason, TrainSummary};

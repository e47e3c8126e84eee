//! One trainer for every model: Adam, shuffled mini-batches, a validation split taken
//! from the end of the data, early stopping with best-weights restore, gradient-norm
//! clipping, a progress bar and a serialisable summary.

mod config;
mod early_stop;
mod progress;
mod trainer;

pub use config::TrainConfig;
pub use early_stop::{EarlyStopping, Verdict};
pub use trainer::{train, train_array, StopReason, TrainSummary};

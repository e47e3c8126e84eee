//! anomaly-xai facade (placeholder)

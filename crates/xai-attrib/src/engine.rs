//! The one batched perturbation engine.
//!
//! Every perturbation method only says how its perturbed inputs are built ("job" `j`
//! yields some rows) and what to do with their scores. This engine alone stacks the rows
//! of as many jobs as fit into `batch_size` rows per model call, evaluates them under
//! no-grad, checks the scorer's answers and reports progress. No method ever calls the
//! model once per perturbation.

use std::cell::Cell;
use std::ops::Range;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tch::Tensor;

use crate::error::{Result, XaiError};
use crate::params::Batching;
use crate::scorer::Scorer;
use crate::validate::check_scores;

/// Evaluates a scorer on stacked perturbations, `batch_size` rows per call.
pub(crate) struct Engine<'a, S: ?Sized> {
    scorer: &'a S,
    method: &'static str,
    batch_size: i64,
    progress: bool,
    rows: Cell<i64>,
}

impl<'a, S: Scorer + ?Sized> Engine<'a, S> {
    /// An engine for `method` around `scorer`.
    pub(crate) fn new(scorer: &'a S, method: &'static str, batching: Batching) -> Self {
        Engine {
            scorer,
            method,
            batch_size: batching.batch_size.clamp(1, i64::MAX as usize) as i64,
            progress: batching.progress,
            rows: Cell::new(0),
        }
    }

    /// An engine that evaluates `scorer` in one call per `batch_size` rows, silently
    /// (for the few evaluations a method makes besides its perturbations).
    pub(crate) fn quiet(scorer: &'a S, method: &'static str, batch_size: usize) -> Self {
        Engine::new(
            scorer,
            method,
            Batching {
                batch_size,
                progress: false,
            },
        )
    }

    /// Rows evaluated so far (for the cost report).
    pub(crate) fn rows(&self) -> i64 {
        self.rows.get()
    }

    /// Scores `[R, ..]` rows under no-grad, at most `batch_size` rows per call: `[R]`.
    /// `samples[r]` is the explained sample row `r` stems from (see
    /// [`Scorer::score_rows`]).
    pub(crate) fn eval(&self, rows: &Tensor, samples: &Tensor) -> Result<Tensor> {
        self.eval_with(rows, samples, &ProgressBar::hidden())
    }

    /// Scores the explained batch itself, `[B, ..] -> [B]`.
    pub(crate) fn eval_batch(&self, x: &Tensor) -> Result<Tensor> {
        self.eval(x, &batch_samples(x.size()[0], 1, x.device())?)
    }

    /// Scores the two ends of a path, `start` and `end` (`[B, ..]` each), stacked into
    /// one batch: `(f(start), f(end))`, `[B]` each.
    pub(crate) fn eval_ends(&self, start: &Tensor, end: &Tensor) -> Result<(Tensor, Tensor)> {
        let b = start.size()[0];
        let f = self.eval(
            &Tensor::f_cat(&[start, end], 0)?,
            &batch_samples(b, 2, start.device())?,
        )?;
        Ok((f.f_narrow(0, 0, b)?, f.f_narrow(0, b, b)?))
    }

    fn eval_with(&self, rows: &Tensor, samples: &Tensor, bar: &ProgressBar) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        let total = rows.size()[0];
        let mut outs = Vec::with_capacity((total / self.batch_size + 1) as usize);
        let mut start = 0;
        while start < total {
            let len = self.batch_size.min(total - start);
            let chunk = rows.f_narrow(0, start, len)?;
            let out = self
                .scorer
                .score_rows(&chunk, &samples.f_narrow(0, start, len)?)?;
            outs.push(check_scores(&self.scorer.describe(), &out, len)?.f_detach()?);
            self.rows.set(self.rows.get() + len);
            bar.inc(len as u64);
            start += len;
        }
        if outs.len() == 1 {
            return Ok(outs.pop().expect("one chunk"));
        }
        Ok(Tensor::f_cat(&outs, 0)?)
    }

    /// Runs `n_jobs` jobs of `rows_per_job` rows each. `build(jobs)` returns the rows of
    /// those jobs stacked job-major, `[jobs.len() * rows_per_job, ..]`, and the explained
    /// sample of every row (`[jobs.len() * rows_per_job]`); `consume(jobs,
    /// scores)` receives their scores as `[jobs.len(), rows_per_job]`.
    pub(crate) fn run(
        &self,
        n_jobs: i64,
        rows_per_job: i64,
        mut build: impl FnMut(Range<i64>) -> Result<(Tensor, Tensor)>,
        mut consume: impl FnMut(Range<i64>, &Tensor) -> Result<()>,
    ) -> Result<()> {
        if n_jobs == 0 {
            return Ok(());
        }
        let bar = self.bar((n_jobs * rows_per_job) as u64);
        let per_call = (self.batch_size / rows_per_job).max(1);
        let mut first = 0;
        while first < n_jobs {
            let jobs = first..(first + per_call).min(n_jobs);
            let k = jobs.end - jobs.start;
            let (rows, samples) = build(jobs.clone())?;
            if rows.size().first() != Some(&(k * rows_per_job)) {
                return Err(XaiError::ShapeMismatch {
                    what: format!("{} perturbed batch", self.method),
                    expected: format!("[{}, ..]", k * rows_per_job),
                    got: rows.size(),
                });
            }
            let scores = self
                .eval_with(&rows, &samples, &bar)?
                .f_reshape([k, rows_per_job])?;
            consume(jobs, &scores)?;
            first += k;
        }
        bar.finish_and_clear();
        Ok(())
    }

    fn bar(&self, total: u64) -> ProgressBar {
        progress_bar(self.method, total, self.progress)
    }
}

/// The sample of every row when `k` copies of a batch of `b` are stacked: `[k · b]`,
/// `0..b` repeated `k` times.
pub(crate) fn batch_samples(b: i64, k: i64, device: tch::Device) -> Result<Tensor> {
    Ok(Tensor::f_arange(b, (tch::Kind::Int64, device))?.f_repeat([k])?)
}

/// A progress bar over `total` rows of `method` on stderr, hidden unless `show` (indicatif
/// draws nothing when stderr is not a terminal).
pub(crate) fn progress_bar(method: &'static str, total: u64, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:>18} [{bar:30}] {human_pos}/{human_len} rows, {eta} left",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(method);
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorer::FnScorer;
    use std::cell::RefCell;
    use tch::{Device, Kind};

    #[test]
    fn jobs_are_stacked_up_to_batch_size_rows_per_call() {
        let calls = RefCell::new(Vec::new());
        let s = FnScorer::new("sum", |x: &Tensor| {
            calls.borrow_mut().push(x.size()[0]);
            Ok(x.f_sum_dim_intlist(1, false, Kind::Float)?)
        });
        let engine = Engine::quiet(&s, "test", 6);
        let mut seen = Vec::new();
        engine
            .run(
                5,
                2,
                |jobs| {
                    let v: Vec<f32> = jobs
                        .clone()
                        .flat_map(|j| [j as f32, 10.0 * j as f32])
                        .collect();
                    let k = jobs.end - jobs.start;
                    Ok((
                        Tensor::from_slice(&v).reshape([-1, 1]),
                        batch_samples(2, k, Device::Cpu)?,
                    ))
                },
                |jobs, scores| {
                    assert_eq!(scores.size(), vec![jobs.end - jobs.start, 2]);
                    seen.extend(Vec::<f32>::try_from(scores.flatten(0, -1)).unwrap());
                    Ok(())
                },
            )
            .unwrap();
        assert_eq!(*calls.borrow(), vec![6, 4]);
        assert_eq!(seen, vec![0., 0., 1., 10., 2., 20., 3., 30., 4., 40.]);
        assert_eq!(engine.rows(), 10);
    }

    #[test]
    fn jobs_larger_than_a_batch_are_split_across_calls() {
        let calls = RefCell::new(Vec::new());
        let s = FnScorer::new("sum", |x: &Tensor| {
            calls.borrow_mut().push(x.size()[0]);
            Ok(x.f_sum_dim_intlist(1, false, Kind::Float)?)
        });
        let engine = Engine::quiet(&s, "test", 2);
        let rows = Tensor::ones([5, 3], (Kind::Float, Device::Cpu));
        let out = engine.eval_batch(&rows).unwrap();
        assert_eq!(out.size(), vec![5]);
        assert_eq!(*calls.borrow(), vec![2, 2, 1]);
    }

    #[test]
    fn a_scorer_returning_the_wrong_shape_or_nan_is_an_error() {
        let s = FnScorer::new("bad", |x: &Tensor| Ok(x.shallow_clone()));
        let engine = Engine::quiet(&s, "test", 8);
        let err = engine
            .eval_batch(&Tensor::ones([2, 3], (Kind::Float, Device::Cpu)))
            .unwrap_err();
        assert!(err.to_string().contains("`bad`"), "{err}");
        let s = FnScorer::new("nan", |x: &Tensor| {
            Ok(x.f_sum_dim_intlist(1, false, Kind::Float)?.f_log()?)
        });
        let engine = Engine::quiet(&s, "test", 8);
        let err = engine.eval_batch(
            &Tensor::zeros([2, 3], (Kind::Float, Device::Cpu))
                .f_sub_scalar(1.0)
                .unwrap(),
        );
        assert!(
            matches!(err, Err(XaiError::NonFinite { index: 0, .. })),
            "{err:?}"
        );
    }
}

//! A tabulated game: a scorer evaluated once on every coalition of every explained sample,
//! with the exact Shapley values computed from the table, and its files.

use std::fs;
use std::path::Path;
use std::time::Instant;

use anomaly_xai::attrib::Scorer;
use anomaly_xai::data::DataError;
use anomaly_xai::{Error, Result};
use tch::{Device, Kind, Tensor};

use super::exact::shapley_values;

/// The most groups [`Game::tabulate`] enumerates: `2^20` model evaluations per sample.
pub const MAX_GROUPS: usize = 20;

/// A cooperative game per explained sample: `v(z)` for every coalition `z` (bit `g` of the
/// index is group `g`), and its exact Shapley values.
#[derive(Debug)]
pub struct Game {
    /// The game's name (`synthetic_mlp`, ...), also its file name.
    pub name: String,
    /// What the detector, the samples and the grouping are.
    pub description: String,
    /// The explained inputs, `[S, ..sample]`.
    pub x: Tensor,
    /// One baseline per input, `[S, ..sample]`.
    pub baseline: Tensor,
    /// Group id of every cell, in the sample's shape.
    pub ids: Tensor,
    /// Number of groups (players).
    pub m: usize,
    /// Per sample, the `2^m` coalition values.
    pub values: Vec<Vec<f64>>,
    /// Per sample, the exact Shapley values of the `m` groups.
    pub exact: Vec<Vec<f64>>,
    /// Seconds spent building (or reading) the game.
    pub seconds: f64,
}

impl Game {
    /// Evaluates `scorer` on every coalition of every sample: the cells of the groups in
    /// the coalition from `x`, the others from `baseline`.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for more than [`MAX_GROUPS`] groups; the scorer's error.
    pub fn tabulate(
        name: &str,
        description: String,
        scorer: &dyn Scorer,
        x: &Tensor,
        baseline: &Tensor,
        ids: &Tensor,
    ) -> Result<Game> {
        let start = Instant::now();
        let m = (ids.f_max()?.f_int64_value(&[])? + 1) as usize;
        if m > MAX_GROUPS {
            return Err(Error::InvalidSetting {
                setting: "groups",
                value: m.to_string(),
                rule: format!("are too many to enumerate (at most {MAX_GROUPS})"),
            });
        }
        let s = x.size()[0];
        let flat_ids = ids.flatten(0, -1);
        let cells = flat_ids.size()[0];
        let total = 1i64 << m;
        let chunk = 8192.min(total);
        let mut values = Vec::new();
        let _guard = tch::no_grad_guard();
        for i in 0..s {
            let xi = x.get(i).reshape([1, cells]);
            let bi = baseline.get(i).reshape([1, cells]);
            let mut v = Vec::with_capacity(total as usize);
            let mut first = 0;
            while first < total {
                let n = chunk.min(total - first);
                let idx = Tensor::arange_start(first, first + n, (Kind::Int64, Device::Cpu));
                // Bit `ids[c]` of the coalition index says whether cell `c` is present.
                let present = idx
                    .unsqueeze(1)
                    .bitwise_right_shift(&flat_ids.unsqueeze(0))
                    .bitwise_and(1)
                    .eq(1);
                let mut shape = vec![n];
                shape.extend_from_slice(&x.size()[1..]);
                let rows = xi.where_self(&present, &bi).reshape(&shape);
                let out = scorer.score(&rows)?.to_kind(Kind::Double);
                v.extend(Vec::<f64>::try_from(out)?);
                first += n;
            }
            values.push(v);
        }
        let exact = values
            .iter()
            .map(|v| shapley_values(v))
            .collect::<Result<_>>()?;
        Ok(Game {
            name: name.into(),
            description,
            x: x.shallow_clone(),
            baseline: baseline.shallow_clone(),
            ids: ids.shallow_clone(),
            m,
            values,
            exact,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// The game `name` written by [`Game::write`] into `dir`.
    ///
    /// # Errors
    /// [`Error::Io`] or [`DataError`] naming the file that is missing, unreadable or lacks
    /// a tensor.
    pub fn read(dir: &Path, name: &str) -> Result<Game> {
        let start = Instant::now();
        let json = dir.join(format!("{name}.json"));
        let text = fs::read_to_string(&json).map_err(|e| Error::io(&json, e))?;
        let meta: serde_json::Value = serde_json::from_str(&text)?;
        let path = dir.join(format!("{name}.safetensors"));
        let tensors = Tensor::read_safetensors(&path).map_err(|e| DataError::Content {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let get = |key: &str| {
            tensors
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, t)| t.shallow_clone())
                .ok_or_else(|| DataError::Missing {
                    path: path.clone(),
                    what: format!("tensor `{key}`"),
                })
        };
        let rows = |t: Tensor| -> Result<Vec<Vec<f64>>> {
            (0..t.size()[0])
                .map(|i| Ok(Vec::<f64>::try_from(t.get(i))?))
                .collect()
        };
        let values = rows(get("values")?)?;
        let Some(first) = values.first() else {
            return Err(DataError::Content {
                path,
                reason: "no samples".into(),
            }
            .into());
        };
        Ok(Game {
            name: name.into(),
            description: meta["description"].as_str().unwrap_or_default().into(),
            x: get("x")?,
            baseline: get("baseline")?,
            ids: get("ids")?,
            m: first.len().trailing_zeros() as usize,
            exact: rows(get("exact")?)?,
            values,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// Writes `dir/NAME.safetensors` (`x`, `baseline`, `ids`, `values`, `exact`) and
    /// `dir/NAME.json` (name, description, groups, samples, sample shape, `"truth":
    /// "exact"`), for [`Game::read`] and `xtask/bench/kernel_shap_curve.py`.
    ///
    /// # Errors
    /// [`Error::Io`] or [`DataError::Content`] naming the file that cannot be written.
    pub fn write(&self, dir: &Path) -> Result<()> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let s = self.values.len() as i64;
        let values: Vec<f64> = self.values.concat();
        let exact: Vec<f64> = self.exact.concat();
        let path = dir.join(format!("{}.safetensors", self.name));
        Tensor::write_safetensors(
            &[
                ("x", self.x.shallow_clone()),
                ("baseline", self.baseline.shallow_clone()),
                ("ids", self.ids.shallow_clone()),
                ("values", Tensor::from_slice(&values).reshape([s, -1])),
                ("exact", Tensor::from_slice(&exact).reshape([s, -1])),
            ],
            &path,
        )
        .map_err(|e| DataError::Content {
            path,
            reason: e.to_string(),
        })?;
        let meta = serde_json::json!({
            "name": self.name,
            "description": self.description,
            "groups": self.m,
            "samples": s,
            "sample_shape": &self.x.size()[1..],
            "truth": "exact",
        });
        let json = dir.join(format!("{}.json", self.name));
        fs::write(&json, serde_json::to_string_pretty(&meta)?).map_err(|e| Error::io(&json, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anomaly_xai::attrib::FnScorer;

    /// `f(x) = Σ_c w_c x_c + x_0 x_1` on four cells in two groups {0, 1}, {2, 3}.
    fn small() -> Game {
        let w = Tensor::from_slice(&[1.0, -2.0, 0.5, 3.0]);
        let f = FnScorer::new("small", move |x: &Tensor| {
            let pair = x.f_select(1, 0)?.f_mul(&x.f_select(1, 1)?)?;
            Ok(x.f_matmul(&w)?.f_add(&pair)?)
        });
        let x = Tensor::from_slice(&[1.0, 2.0, 3.0, 4.0, -1.0, 1.0, 0.0, 2.0]).reshape([2, 4]);
        let ids = Tensor::from_slice(&[0i64, 0, 1, 1]);
        Game::tabulate("small", "test".into(), &f, &x, &x.zeros_like(), &ids).unwrap()
    }

    #[test]
    fn tabulates_every_coalition_and_its_exact_values() {
        let g = small();
        assert_eq!((g.m, g.values.len()), (2, 2));
        // Sample 0 = (1, 2, 3, 4): v(∅) = 0, v({0}) = 1 − 4 + 2, v({1}) = 1.5 + 12.
        assert_eq!(g.values[0], vec![0.0, -1.0, 13.5, 12.5]);
        // Groups do not interact: each group's value is its own.
        assert_eq!(g.exact[0], vec![-1.0, 13.5]);
        let total: f64 = g.exact[1].iter().sum();
        assert!((total - (g.values[1][3] - g.values[1][0])).abs() < 1e-12);
    }

    #[test]
    fn refuses_more_groups_than_it_can_enumerate() {
        let f = FnScorer::new("sum", |x: &Tensor| Ok(x.f_sum_dim_intlist(1, false, None)?));
        let n = MAX_GROUPS as i64 + 1;
        let x = Tensor::ones([1, n], (Kind::Double, Device::Cpu));
        let ids = Tensor::arange(n, (Kind::Int64, Device::Cpu));
        let err = Game::tabulate("big", String::new(), &f, &x, &x.zeros_like(), &ids).unwrap_err();
        assert!(err.to_string().contains("groups = 21"), "{err}");
    }

    #[test]
    fn reads_what_it_wrote() {
        let g = small();
        let dir = std::env::temp_dir().join(format!("kshap-game-{}", std::process::id()));
        g.write(&dir).unwrap();
        let back = Game::read(&dir, "small").unwrap();
        assert_eq!(
            (back.m, &back.values, &back.exact),
            (g.m, &g.values, &g.exact)
        );
        assert_eq!(back.description, "test");
        assert!(back.x.equal(&g.x) && back.ids.equal(&g.ids));
        let err = Game::read(&dir, "absent").unwrap_err();
        assert!(err.to_string().contains("absent.json"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}

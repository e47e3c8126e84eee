//! A scorer that answers from a tabulated game instead of running the model: Kernel SHAP
//! runs unchanged on it, on the model's numbers, at no cost.

use anomaly_xai::attrib::{Result as AttribResult, Scorer, XaiError};
use anomaly_xai::Result;
use tch::{Kind, Tensor};

use super::game::Game;

/// Sample `i` of a [`Game`] as a scorer: it reads the coalition of each perturbed input
/// off one cell per group where the input and the baseline differ (a group equal to its
/// baseline everywhere does not change the value, so its bit is irrelevant), checks that
/// every cell is the input's or the baseline's, and returns the tabulated value.
#[derive(Debug)]
pub struct Lookup {
    x: Tensor,
    baseline: Tensor,
    cells: Tensor,
    weights: Tensor,
    values: Tensor,
}

impl Lookup {
    /// The scorer of sample `i` of `game`.
    ///
    /// # Errors
    /// libtorch's error for a sample index past the game's samples.
    pub fn new(game: &Game, i: usize) -> Result<Lookup> {
        let x = game.x.f_get(i as i64)?.flatten(0, -1);
        let baseline = game.baseline.f_get(i as i64)?.flatten(0, -1);
        let ids = Vec::<i64>::try_from(game.ids.flatten(0, -1))?;
        let differs = Vec::<bool>::try_from(x.ne_tensor(&baseline))?;
        let (mut cells, mut weights) = (Vec::new(), Vec::new());
        for g in 0..game.m as i64 {
            if let Some(c) = (0..ids.len()).find(|&c| ids[c] == g && differs[c]) {
                cells.push(c as i64);
                weights.push(1i64 << g);
            }
        }
        Ok(Lookup {
            x,
            baseline,
            cells: Tensor::from_slice(&cells),
            weights: Tensor::from_slice(&weights),
            values: Tensor::from_slice(&game.values[i]),
        })
    }
}

impl Scorer for Lookup {
    fn score(&self, rows: &Tensor) -> AttribResult<Tensor> {
        let flat = rows.f_flatten(1, -1)?;
        let valid = flat
            .f_eq_tensor(&self.x)?
            .f_logical_or(&flat.f_eq_tensor(&self.baseline)?)?
            .f_all()?
            .f_int64_value(&[])?;
        if valid == 0 {
            return Err(XaiError::InvalidInput {
                what: "lookup scorer".into(),
                reason: "a perturbed input mixes values other than the input's and the baseline's"
                    .into(),
            });
        }
        let bits = flat
            .f_index_select(1, &self.cells)?
            .f_eq_tensor(&self.x.f_index_select(0, &self.cells)?)?
            .f_to_kind(Kind::Int64)?;
        let index = bits
            .f_mul(&self.weights)?
            .f_sum_dim_intlist(1, false, Kind::Int64)?;
        Ok(self.values.f_index_select(0, &index)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anomaly_xai::attrib::FnScorer;
    use tch::Device;

    /// A non-additive function of six cells in three groups, one group left at its
    /// baseline in the second sample.
    fn game() -> (Game, impl Scorer) {
        let f = FnScorer::new("f", |x: &Tensor| {
            let product = x.f_prod_dim_int(1, false, Kind::Double)?;
            Ok(x.f_sin()?
                .f_sum_dim_intlist(1, false, None)?
                .f_add(&product)?)
        });
        let x = Tensor::from_slice(&[
            0.5, 1.0, -2.0, 3.0, 0.25, 4.0, 1.0, 1.0, 2.0, 0.0, -1.0, 0.5,
        ])
        .reshape([2, 6]);
        let baseline = Tensor::from_slice(&[0.0, 0.0, 0.0, 0.0, 0.0, 0.0]).expand([2, 6], false);
        let baseline = baseline.copy();
        // The second sample's group 1 (cells 2, 3) made equal to its baseline.
        let _ = baseline.get(1).get(2).fill_(2.0);
        let ids = Tensor::from_slice(&[0i64, 0, 1, 1, 2, 2]);
        let g = Game::tabulate("g", String::new(), &f, &x, &baseline, &ids).unwrap();
        (g, f)
    }

    #[test]
    fn returns_the_tabulated_value_of_every_coalition() {
        let (g, f) = game();
        let ids = Vec::<i64>::try_from(&g.ids).unwrap();
        for i in 0..2 {
            let lookup = Lookup::new(&g, i).unwrap();
            let (x, b) = (g.x.get(i as i64), g.baseline.get(i as i64));
            let rows: Vec<Tensor> = (0..1usize << g.m)
                .map(|z| {
                    let present: Vec<bool> = ids.iter().map(|&c| z >> c & 1 == 1).collect();
                    x.where_self(&Tensor::from_slice(&present), &b)
                })
                .collect();
            let rows = Tensor::stack(&rows, 0);
            let got = Vec::<f64>::try_from(lookup.score(&rows).unwrap()).unwrap();
            assert_eq!(got, g.values[i]);
            let model = Vec::<f64>::try_from(f.score(&rows).unwrap()).unwrap();
            assert_eq!(got, model);
        }
    }

    #[test]
    fn refuses_an_input_that_is_neither_the_sample_nor_the_baseline() {
        let (g, _) = game();
        let lookup = Lookup::new(&g, 0).unwrap();
        let rows = Tensor::full([1, 6], 7.0, (Kind::Double, Device::Cpu));
        let err = lookup.score(&rows).unwrap_err();
        assert!(err.to_string().contains("lookup scorer"), "{err}");
    }
}

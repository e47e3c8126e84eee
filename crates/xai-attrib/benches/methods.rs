//! Time per explained window of every method on paper 1's model: an LSTM autoencoder
//! (38 sensors, windows of 50 steps, 2 + 2 LSTM layers of 64 units, seeded weights),
//! explaining its mean L1 reconstruction error per sensor, four windows per call.
//!
//! `cargo bench -p xai-attrib --bench methods`

// `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

use ae_models::{ErrorNorm, LstmAe, LstmAeConfig};
use criterion::{criterion_group, criterion_main, Criterion};
use tch::{Device, Kind, Tensor};
use xai_attrib::{
    Attribution, Baseline, ErrorScorer, FeatureAblation, FeatureMask, FeaturePermutation,
    GradientShap, InputXGradient, IntegratedGradients, KernelShap, Occlusion, Request, Residual,
    Saliency, Scorer, ShapleyValueSampling,
};

const T: i64 = 50;
const F: i64 = 38;

type Method = Box<dyn for<'s> Attribution<dyn Scorer + 's>>;

fn methods() -> Vec<Method> {
    vec![
        Box::new(Saliency::default()),
        Box::new(InputXGradient::default()),
        Box::new(IntegratedGradients::default()),
        Box::new(GradientShap::params().n_samples(20).check().unwrap()),
        Box::new(FeatureAblation::default()),
        Box::new(Occlusion::params().window([T, 1]).check().unwrap()),
        Box::new(
            Occlusion::params()
                .window([10, 1])
                .strides([5, 1])
                .check()
                .unwrap(),
        ),
        Box::new(FeaturePermutation::default()),
        Box::new(
            ShapleyValueSampling::params()
                .n_permutations(5)
                .check()
                .unwrap(),
        ),
        Box::new(KernelShap::params().n_samples(200).check().unwrap()),
    ]
}

fn bench(c: &mut Criterion) {
    // `ANOMALY_XAI_BENCH_THREADS`, as in the root benches, so all figures can be taken alike.
    if let Some(t) = std::env::var("ANOMALY_XAI_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|&t| t >= 1)
    {
        tch::set_num_threads(t);
    }
    tch::manual_seed(0);
    let model = LstmAe::seeded(&LstmAeConfig::new(F, T, 64), Device::Cpu, 0).unwrap();
    let scorer = ErrorScorer::new(&model, ErrorNorm::L1).unwrap();
    let x = Tensor::rand([4, T, F], (Kind::Float, Device::Cpu));
    let train = Tensor::rand([64, T, F], (Kind::Float, Device::Cpu));
    let mask = FeatureMask::per_sensor(T, F).unwrap();
    let req = Request::with_baseline(Baseline::feature_means(&train).unwrap()).mask(mask.clone());
    let dist = Request::with_baseline(Baseline::Distribution(train.narrow(0, 0, 16))).mask(mask);
    let mut group = c.benchmark_group("explain 4 windows [50, 38], LstmAe 64");
    group.sample_size(10);
    for m in methods() {
        let request = if m.name() == "gradient_shap" {
            &dist
        } else {
            &req
        };
        let a = m.attribute(&scorer as &dyn Scorer, &x, request).unwrap();
        let label = format!(
            "{} ({} fwd, {} bwd per window)",
            m.name(),
            a.forward_evals,
            a.backward_evals
        );
        group.bench_function(label, |b| {
            b.iter(|| m.attribute(&scorer as &dyn Scorer, &x, request).unwrap())
        });
    }
    group.bench_function("residual (1 fwd per window)", |b| {
        b.iter(|| {
            Residual::new(ErrorNorm::L1)
                .attribute(&model, &x, &req)
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

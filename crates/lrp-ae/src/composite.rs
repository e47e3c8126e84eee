//! Composites: which rule goes to which layer.
//!
//! A composite looks at a [`LayerCtx`] (position, kind, whether the layer's input can be
//! negative) and returns a rule, or `None`; propagation turns `None` into
//! [`crate::LrpError::NoRule`]. Composites are built from three pieces, as in Zennit:
//! [`LayerMap`] (ordered `(selector, rule)` pairs, first match wins), the wrapper
//! [`FirstLayer`] (a special map for the first layer with parameters) and [`ByIndex`]
//! (explicit rules for chosen layers in front of another composite).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use ae_models::{Activation, Layer, LayerKind};
use serde::{Deserialize, Serialize};

use crate::error::{LrpError, Result};
use crate::rule::Rule;

/// Whether a layer's input can be negative, as far as the layer list alone tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InputSign {
    /// Never negative: produced by a ReLU or sigmoid (possibly through reshapes,
    /// upsampling, time routing or attention, which keep signs).
    NonNegative,
    /// Possibly negative: the model input (its domain is unknown to the layer list), or
    /// the output of a dense, convolutional or LSTM layer or a tanh.
    Signed,
}

/// What a composite knows about a layer when it picks a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerCtx {
    /// Position in the model's layer list.
    pub index: usize,
    /// The layer's kind.
    pub kind: LayerKind,
    /// Whether this is the first layer with parameters (the one that sees the input).
    pub is_first_param: bool,
    /// Whether this is the last layer with parameters.
    pub is_last_param: bool,
    /// Whether the layer's input can be negative.
    pub input_sign: InputSign,
}

/// The context of every layer of `layers`. The model input counts as
/// [`InputSign::Signed`].
pub fn layer_contexts(layers: &[Layer]) -> Vec<LayerCtx> {
    let first = layers.iter().position(Layer::has_parameters);
    let last = layers.iter().rposition(Layer::has_parameters);
    let mut sign = InputSign::Signed;
    let mut out = Vec::with_capacity(layers.len());
    for (index, layer) in layers.iter().enumerate() {
        let kind = layer.kind();
        out.push(LayerCtx {
            index,
            kind,
            is_first_param: first == Some(index),
            is_last_param: last == Some(index),
            input_sign: sign,
        });
        sign = match kind {
            LayerKind::Activation(Activation::Relu | Activation::Sigmoid | Activation::Softmax) => {
                InputSign::NonNegative
            }
            LayerKind::Activation(Activation::Tanh)
            | LayerKind::Linear
            | LayerKind::Conv2d
            | LayerKind::Lstm => InputSign::Signed,
            LayerKind::UpsampleNearest
            | LayerKind::Reshape
            | LayerKind::LastStep
            | LayerKind::RepeatSteps
            | LayerKind::FeatureAttention => sign,
        };
    }
    out
}

/// Picks the rule for a layer.
pub trait Composite: fmt::Debug + Send + Sync {
    /// The rule for the layer described by `ctx`, or `None` if this composite has none.
    fn rule(&self, ctx: &LayerCtx) -> Option<Arc<dyn Rule>>;

    /// Checks the composite against the whole model before any rule is picked, e.g. that
    /// every layer it names exists. The default accepts every model.
    ///
    /// # Errors
    /// A composite-specific [`LrpError`] naming what does not fit.
    fn check_layers(&self, layers: &[LayerCtx]) -> Result<()> {
        let _ = layers;
        Ok(())
    }
}

impl<C: Composite + ?Sized> Composite for Arc<C> {
    fn rule(&self, ctx: &LayerCtx) -> Option<Arc<dyn Rule>> {
        (**self).rule(ctx)
    }
    fn check_layers(&self, layers: &[LayerCtx]) -> Result<()> {
        (**self).check_layers(layers)
    }
}

impl<C: Composite + ?Sized> Composite for Box<C> {
    fn rule(&self, ctx: &LayerCtx) -> Option<Arc<dyn Rule>> {
        (**self).rule(ctx)
    }
    fn check_layers(&self, layers: &[LayerCtx]) -> Result<()> {
        (**self).check_layers(layers)
    }
}

/// A class of layer kinds a [`LayerMap`] entry applies to (Zennit's `types.py`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LayerClass {
    /// Exactly this kind (e.g. `Activation(Relu)`).
    Kind(LayerKind),
    /// Dense layers.
    Linear,
    /// 2-D convolutions.
    Conv2d,
    /// Dense and convolutional layers (Zennit's `Linear` type).
    Affine,
    /// LSTM layers.
    Lstm,
    /// Feature attention layers.
    FeatureAttention,
    /// Every element-wise activation.
    Activation,
    /// Layers that only move values: upsampling, reshape, last step, repeat steps.
    Routing,
    /// Every layer.
    Any,
}

impl LayerClass {
    /// Whether `kind` belongs to the class.
    pub fn matches(self, kind: LayerKind) -> bool {
        match self {
            LayerClass::Kind(k) => k == kind,
            LayerClass::Linear => kind == LayerKind::Linear,
            LayerClass::Conv2d => kind == LayerKind::Conv2d,
            LayerClass::Affine => matches!(kind, LayerKind::Linear | LayerKind::Conv2d),
            LayerClass::Lstm => kind == LayerKind::Lstm,
            LayerClass::FeatureAttention => kind == LayerKind::FeatureAttention,
            LayerClass::Activation => matches!(kind, LayerKind::Activation(_)),
            LayerClass::Routing => matches!(
                kind,
                LayerKind::UpsampleNearest
                    | LayerKind::Reshape
                    | LayerKind::LastStep
                    | LayerKind::RepeatSteps
            ),
            LayerClass::Any => true,
        }
    }
}

/// One entry of a [`LayerMap`].
#[derive(Debug, Clone)]
struct Entry {
    class: LayerClass,
    sign: Option<InputSign>,
    rule: Arc<dyn Rule>,
}

/// Ordered `(selector, rule)` pairs; the first entry whose selector matches the layer
/// wins (Zennit's `LayerMapComposite`).
///
/// ```
/// use lrp_ae::{composite::{LayerClass, LayerMap}, rules::{Epsilon, Pass, ZPlus}, InputSign};
/// let map = LayerMap::new()
///     .on(LayerClass::Activation, Pass)
///     .on_input(LayerClass::Linear, InputSign::Signed, Epsilon::new(1e-6)?)
///     .on(LayerClass::Linear, ZPlus::new());
/// assert_eq!(map.len(), 3);
/// # Ok::<(), lrp_ae::LrpError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct LayerMap {
    entries: Vec<Entry>,
}

impl LayerMap {
    /// An empty map (it assigns no rule to anything).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends: layers of `class` get `rule`.
    pub fn on(self, class: LayerClass, rule: impl Rule + 'static) -> Self {
        self.on_arc(class, None, Arc::new(rule))
    }

    /// Appends: layers of `class` whose input has sign `sign` get `rule`.
    pub fn on_input(self, class: LayerClass, sign: InputSign, rule: impl Rule + 'static) -> Self {
        self.on_arc(class, Some(sign), Arc::new(rule))
    }

    /// Appends a shared rule; `sign: None` matches every input sign.
    pub fn on_arc(
        mut self,
        class: LayerClass,
        sign: Option<InputSign>,
        rule: Arc<dyn Rule>,
    ) -> Self {
        self.entries.push(Entry { class, sign, rule });
        self
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Composite for LayerMap {
    fn rule(&self, ctx: &LayerCtx) -> Option<Arc<dyn Rule>> {
        self.entries
            .iter()
            .find(|e| e.class.matches(ctx.kind) && e.sign.is_none_or(|s| s == ctx.input_sign))
            .map(|e| Arc::clone(&e.rule))
    }
}

/// A special map for the first layer with parameters, in front of a composite for the
/// rest (Zennit's `SpecialFirstLayerMapComposite`, typically w² or z-box on the first
/// layer).
///
/// Unlike Zennit, which gives the special rule to the first layer *matching the special
/// map*, wherever it is, this applies it only to the first layer *with parameters*: on an
/// LSTM autoencoder a "w² on the first dense layer" map must not land on the dense
/// read-out at the far end. Where the first layer with parameters is not in the special
/// map, the inner composite decides.
#[derive(Debug, Clone)]
pub struct FirstLayer<C> {
    first: LayerMap,
    rest: C,
}

impl<C: Composite> FirstLayer<C> {
    /// `first` for the first layer with parameters, `rest` for everything else.
    pub fn new(first: LayerMap, rest: C) -> Self {
        FirstLayer { first, rest }
    }
}

impl<C: Composite> Composite for FirstLayer<C> {
    fn rule(&self, ctx: &LayerCtx) -> Option<Arc<dyn Rule>> {
        if ctx.is_first_param {
            if let Some(rule) = self.first.rule(ctx) {
                return Some(rule);
            }
        }
        self.rest.rule(ctx)
    }

    fn check_layers(&self, layers: &[LayerCtx]) -> Result<()> {
        self.rest.check_layers(layers)
    }
}

/// Explicit rules for chosen layers by their position in the layer list, in front of an
/// optional composite for the others (Zennit's `NameMapComposite` before a
/// `LayerMapComposite`): the way to give one layer another rule than a preset would,
/// without writing a [`Composite`].
///
/// ```
/// use lrp_ae::{composite::{ByIndex, Composite}, rules::Epsilon, Preset};
/// // paper2-dense, but ε = 0.1 on layer 4.
/// let c = ByIndex::over(Preset::Paper2Dense.composite()?).set(4, Epsilon::new(0.1)?);
/// assert_eq!(c.len(), 1);
/// # Ok::<(), lrp_ae::LrpError>(())
/// ```
///
/// A position beyond the model's last layer is an error when propagation starts
/// ([`Composite::check_layers`]), never silently ignored.
#[derive(Debug, Clone, Default)]
pub struct ByIndex {
    rules: BTreeMap<usize, Arc<dyn Rule>>,
    rest: Option<Arc<dyn Composite>>,
}

impl ByIndex {
    /// No rules yet and no fallback: every layer needs its own entry.
    pub fn new() -> Self {
        Self::default()
    }

    /// No rules yet; layers without an entry get `rest`'s rule.
    pub fn over(rest: impl Composite + 'static) -> Self {
        ByIndex {
            rules: BTreeMap::new(),
            rest: Some(Arc::new(rest)),
        }
    }

    /// Gives layer `index` the rule `rule` (replacing an earlier entry for it).
    pub fn set(self, index: usize, rule: impl Rule + 'static) -> Self {
        self.set_arc(index, Arc::new(rule))
    }

    /// [`ByIndex::set`] with a shared rule.
    pub fn set_arc(mut self, index: usize, rule: Arc<dyn Rule>) -> Self {
        self.rules.insert(index, rule);
        self
    }

    /// Number of explicit entries.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no explicit entries.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

impl Composite for ByIndex {
    fn rule(&self, ctx: &LayerCtx) -> Option<Arc<dyn Rule>> {
        match self.rules.get(&ctx.index) {
            Some(rule) => Some(Arc::clone(rule)),
            None => self.rest.as_ref().and_then(|c| c.rule(ctx)),
        }
    }

    fn check_layers(&self, layers: &[LayerCtx]) -> Result<()> {
        if let Some((&index, _)) = self.rules.range(layers.len()..).next() {
            return Err(LrpError::InvalidParam {
                what: "composite",
                param: "layer index",
                value: format!("{index} (the model has {} layers)", layers.len()),
                rule: "must name a layer of the model",
            });
        }
        match &self.rest {
            Some(c) => c.check_layers(layers),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Epsilon, Pass, WSquare, ZPlus};
    use tch::{Device, Kind, Tensor};

    fn linear() -> Layer {
        Layer::Linear {
            weight: Tensor::zeros([2, 2], (Kind::Float, Device::Cpu)),
            bias: None,
        }
    }

    #[test]
    fn signs_follow_the_layers() {
        let layers = vec![
            linear(),
            Layer::Activation(Activation::Relu),
            Layer::Reshape { shape: vec![-1] },
            linear(),
            Layer::Activation(Activation::Tanh),
            linear(),
        ];
        let ctx = layer_contexts(&layers);
        let signs: Vec<_> = ctx.iter().map(|c| c.input_sign).collect();
        use InputSign::*;
        assert_eq!(
            signs,
            vec![Signed, Signed, NonNegative, NonNegative, Signed, Signed]
        );
        assert!(ctx[0].is_first_param && !ctx[3].is_first_param && ctx[5].is_last_param);
    }

    #[test]
    fn first_match_wins_and_the_first_layer_is_special() {
        let rest = LayerMap::new()
            .on(LayerClass::Activation, Pass)
            .on_input(
                LayerClass::Linear,
                InputSign::Signed,
                Epsilon::new(0.5).unwrap(),
            )
            .on(LayerClass::Linear, ZPlus::new());
        let c = FirstLayer::new(LayerMap::new().on(LayerClass::Linear, WSquare::new()), rest);
        let layers = vec![
            linear(),
            Layer::Activation(Activation::Relu),
            linear(),
            linear(),
        ];
        let names: Vec<String> = layer_contexts(&layers)
            .iter()
            .map(|ctx| c.rule(ctx).map(|r| r.name()).unwrap_or_default())
            .collect();
        assert_eq!(names, vec!["w2", "pass", "z+", "epsilon(0.5)"]);
        let none = LayerMap::new().rule(&layer_contexts(&layers)[0]);
        assert!(none.is_none());
    }

    #[test]
    fn explicit_rules_override_and_bad_indices_are_named() {
        let layers = vec![linear(), Layer::Activation(Activation::Relu), linear()];
        let ctx = layer_contexts(&layers);
        let rest = LayerMap::new().on(LayerClass::Any, Pass);
        let c = ByIndex::over(rest)
            .set(2, ZPlus::new())
            .set(0, WSquare::new());
        let names: Vec<String> = ctx.iter().map(|x| c.rule(x).unwrap().name()).collect();
        assert_eq!(names, vec!["w2", "pass", "z+"]);
        assert!(c.check_layers(&ctx).is_ok());
        let only = ByIndex::new().set(1, Pass);
        assert!(only.rule(&ctx[0]).is_none());
        let e = ByIndex::new().set(3, Pass).check_layers(&ctx).unwrap_err();
        assert!(e.to_string().contains("3 (the model has 3 layers)"), "{e}");
    }
}

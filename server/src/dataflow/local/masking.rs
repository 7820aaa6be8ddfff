//! Secret-bearing models: classes with key-named fields, fields masked as `SecretStr`, and
//! `.get_secret_value()` that unmasks them.

use tree_sitter::Node;

use crate::dataflow::{Base, Kind, Label, Mode, Taint};
use crate::model::frameworks as fw;

use super::Walker;

impl<'a> Walker<'a> {
    /// A class of the module with a key-named field: (class, field, masked). `masked` when every
    /// key-named field is a masked type (`SecretStr`); the field named is then the first of them,
    /// otherwise the first one that is not masked.
    pub(super) fn secret_model(&self, name: &str) -> Option<(String, String, bool)> {
        let class = self.model.classes.iter().rev().find(|c| c.name == name)?;
        let mut keys = class.fields.iter().filter(|f| fw::is_key_name(f));
        let first = keys.clone().next()?;
        Some(match keys.find(|f| !class.is_masked(f)) {
            Some(field) => (class.name.clone(), field.clone(), false),
            None => (class.name.clone(), first.clone(), true),
        })
    }

    /// The kind of a source holding a model (or settings) with secret fields.
    pub(super) fn model_kind(masked: bool) -> Kind {
        if masked {
            Kind::MaskedModel
        } else {
            Kind::Model
        }
    }

    /// Every model class of the module that declares `field` masks it (`SecretStr`), and one does.
    pub(super) fn masked_everywhere(&self, field: &str) -> bool {
        let mut declared = self
            .model
            .classes
            .iter()
            .filter(|c| c.fields.iter().any(|f| f == field))
            .peekable();
        declared.peek().is_some() && declared.all(|c| c.is_masked(field))
    }

    /// The field `field` of model class `class` is masked (`SecretStr`).
    pub(super) fn masked_field(&self, class: Option<&str>, field: &str) -> bool {
        class.is_some_and(|class| {
            self.model
                .classes
                .iter()
                .rev()
                .find(|c| c.name == class)
                .is_some_and(|c| c.is_masked(field))
        })
    }

    /// `.get_secret_value()`: what `t` holds, unmasked.
    pub(super) fn unmask(&mut self, t: Taint, at: Node) -> Taint {
        let mut out = Taint::default();
        for l in t.0 {
            match l.base {
                Base::Source(i) if l.mode == Mode::Whole => {
                    let s = self.flow.sources[i as usize].clone();
                    match s.kind {
                        Kind::Masked | Kind::MaskedModel => {
                            let origin = s
                                .message
                                .split_once('(')
                                .map_or("", |(_, r)| r.trim_end_matches(')'));
                            let x = self.source(
                                at,
                                Kind::Key,
                                format!("API key unmasked here ({origin})"),
                                None,
                                None,
                            );
                            out.union(&x);
                        }
                        _ => out.union(&Taint(vec![l])),
                    }
                }
                _ => out.union(&Taint(vec![Label {
                    base: l.base,
                    mode: Mode::compose(Mode::Unmask, l.mode),
                }])),
            }
        }
        out
    }
}

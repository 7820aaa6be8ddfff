//! Client settings (`initializationOptions` and `workspace/didChangeConfiguration`).
//!
//! Accepted shapes: `{"keylint": {...}}`, `{"settings": {...}}` or the settings object itself, with
//! keys in camelCase or kebab-case: `select` (rule codes), `extraSecretNames`,
//! `allowedPlaceholders`. Unknown keys are ignored; the raw value is kept for later features.

use serde_json::Value;

use crate::analysis::Options;
use crate::rules::{self, FileContext, RuleSettings};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub raw: Value,
    /// Codes of the selected rules (`None`: all).
    pub select: Option<Vec<&'static str>>,
    pub rule_settings: RuleSettings,
}

impl Settings {
    /// Reads settings from a client value; returns them with warnings about values it ignored.
    pub fn from_value(value: &Value) -> (Settings, Vec<String>) {
        let mut warnings = Vec::new();
        let obj = value
            .get("keylint")
            .or_else(|| value.get("settings"))
            .unwrap_or(value);
        let get = |camel: &str, kebab: &str| obj.get(camel).or_else(|| obj.get(kebab));
        let strings = |v: Option<&Value>, warnings: &mut Vec<String>, key: &str| -> Vec<String> {
            match v {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|i| match i.as_str() {
                        Some(s) => Some(s.to_string()),
                        None => {
                            warnings.push(format!("`{key}`: ignoring a non-string entry"));
                            None
                        }
                    })
                    .collect(),
                Some(_) => {
                    warnings.push(format!("`{key}` must be a list of strings"));
                    Vec::new()
                }
            }
        };
        let select = match get("select", "select") {
            None | Some(Value::Null) => None,
            v => {
                let mut codes = Vec::new();
                for name in strings(v, &mut warnings, "select") {
                    match rules::find(&name) {
                        Some(rule) => codes.push(rule.meta().code),
                        None => warnings.push(format!("`select`: no rule named `{name}`")),
                    }
                }
                Some(codes)
            }
        };
        let rule_settings = RuleSettings {
            extra_secret_names: strings(
                get("extraSecretNames", "extra-secret-names"),
                &mut warnings,
                "extraSecretNames",
            )
            .into_iter()
            .map(|s| s.to_ascii_lowercase())
            .collect(),
            allowed_placeholders: strings(
                get("allowedPlaceholders", "allowed-placeholders"),
                &mut warnings,
                "allowedPlaceholders",
            ),
        };
        (
            Settings {
                raw: value.clone(),
                select,
                rule_settings,
            },
            warnings,
        )
    }

    /// The analysis options for a document at `path` (`None`: an unsaved buffer).
    pub fn options_for(&self, path: Option<std::path::PathBuf>) -> Options {
        let is_test = path.as_deref().is_some_and(crate::config::is_test_path);
        Options {
            file: FileContext { path, is_test },
            settings: self.rule_settings.clone(),
            select: self.select.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_nested_and_kebab_keys() {
        let (s, w) = Settings::from_value(&json!({"keylint": {
            "select": ["kl101", "nope"],
            "extra-secret-names": ["Pin"],
            "allowedPlaceholders": ["changeme", 3]
        }}));
        assert_eq!(s.select, Some(vec!["KL101"]));
        assert_eq!(s.rule_settings.extra_secret_names, vec!["pin"]);
        assert_eq!(s.rule_settings.allowed_placeholders, vec!["changeme"]);
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn empty_value_means_defaults() {
        let (s, w) = Settings::from_value(&Value::Null);
        assert_eq!(s.select, None);
        assert!(w.is_empty());
    }
}

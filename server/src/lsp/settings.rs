//! Client settings (`initializationOptions` and `workspace/didChangeConfiguration`).
//!
//! Accepted shapes: the settings object itself, or it wrapped in `{"settings": ...}` and/or
//! `{"keylint": ...}` (VS Code sends `{"settings": {"keylint": {...}}}`, Neovim `settings.keylint`),
//! with keys in camelCase or kebab-case:
//! * `select`, `ignore`: rule codes or names; they replace the configuration files' lists, like the
//!   CLI's `--select` / `--ignore`. An empty list is the same as no setting (editors send their
//!   defaults, `[]`, and that must not switch every rule off).
//! * `severity`: `{"KL101": "error"}`, over the configuration's `severity` table.
//! * `extraSecretNames`, `allowedPlaceholders`: added to the configuration's lists.
//! * `maxFileSize`: documents larger than this many bytes are not analysed (0: no limit; default
//!   [`DEFAULT_MAX_FILE_SIZE`](crate::config::DEFAULT_MAX_FILE_SIZE)); see `lsp/large.rs`.
//! * `unsafeFixes`: `true`/`false` over the configuration's `unsafe-fixes` (fix-all applies the
//!   unsafe fixes too).
//!
//! Unknown keys are ignored; bad values are reported as warnings and skipped.

use serde_json::Value;

use crate::config::{self, Overrides};
use crate::finding::Severity;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub raw: Value,
    /// Codes of the selected rules (`None`: the configuration's choice).
    pub select: Option<Vec<&'static str>>,
    /// Codes of the ignored rules (`None`: the configuration's choice).
    pub ignore: Option<Vec<&'static str>>,
    pub severity: Vec<(&'static str, Severity)>,
    /// Lower case.
    pub extra_secret_names: Vec<String>,
    pub allowed_placeholders: Vec<String>,
    /// `maxFileSize` in bytes (`None`: the default; 0: no limit).
    pub max_file_size: Option<u64>,
    pub unsafe_fixes: Option<bool>,
}

/// The settings object inside the accepted wrappers.
fn unwrap(value: &Value) -> &Value {
    let mut obj = value;
    while let Some(inner) = obj
        .get("settings")
        .or_else(|| obj.get("keylint"))
        .filter(|v| v.is_object())
    {
        obj = inner;
    }
    obj
}

fn strings(v: Option<&Value>, warnings: &mut Vec<String>, key: &str) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| match i.as_str() {
                Some(s) => Some(s.trim().to_string()),
                None => {
                    warnings.push(format!("`{key}`: ignoring a non-string entry"));
                    None
                }
            })
            .filter(|s| !s.is_empty())
            .collect(),
        Some(_) => {
            warnings.push(format!("`{key}` must be a list of strings"));
            Vec::new()
        }
    }
}

/// A list of rules; `None` when absent or empty. Unknown rules are warned about and skipped (a
/// list of only unknown rules selects nothing: the user asked for specific rules).
fn rules(v: Option<&Value>, warnings: &mut Vec<String>, key: &str) -> Option<Vec<&'static str>> {
    let names = strings(v, warnings, key);
    if names.is_empty() {
        return None;
    }
    let mut codes = Vec::new();
    for name in names {
        // A code, a name or a code prefix (`KL2`), as in the CLI and the configuration.
        match config::resolve_rule(&name) {
            Ok(found) => {
                for code in found {
                    if !codes.contains(&code) {
                        codes.push(code);
                    }
                }
            }
            Err(_) => warnings.push(format!("`{key}`: no rule named `{name}`")),
        }
    }
    Some(codes)
}

impl Settings {
    /// Reads settings from a client value; returns them with warnings about values it ignored.
    pub fn from_value(value: &Value) -> (Settings, Vec<String>) {
        let mut warnings = Vec::new();
        let obj = unwrap(value);
        let get = |camel: &str, kebab: &str| obj.get(camel).or_else(|| obj.get(kebab));
        let select = rules(get("select", "select"), &mut warnings, "select");
        let ignore = rules(get("ignore", "ignore"), &mut warnings, "ignore");
        let mut severity = Vec::new();
        match get("severity", "severity") {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (rule, level) in map {
                    let Some(meta) = config::find_meta(rule) else {
                        warnings.push(format!("`severity`: no rule named `{rule}`"));
                        continue;
                    };
                    match level.as_str().and_then(Severity::parse) {
                        Some(s) => {
                            severity.retain(|(c, _)| *c != meta.code);
                            severity.push((meta.code, s));
                        }
                        None => warnings.push(format!(
                            "`severity.{rule}`: expected one of error, warning, info, hint"
                        )),
                    }
                }
            }
            Some(_) => warnings.push("`severity` must be an object of rule → level".into()),
        }
        let extra_secret_names = strings(
            get("extraSecretNames", "extra-secret-names"),
            &mut warnings,
            "extraSecretNames",
        )
        .into_iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
        let allowed_placeholders = strings(
            get("allowedPlaceholders", "allowed-placeholders"),
            &mut warnings,
            "allowedPlaceholders",
        );
        let max_file_size = match get("maxFileSize", "max-file-size") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64() {
                Some(n) => Some(n),
                None => {
                    warnings.push(
                        "`maxFileSize` must be a number of bytes (0 for no limit); the default \
                         applies"
                            .into(),
                    );
                    None
                }
            },
        };
        let unsafe_fixes = match get("unsafeFixes", "unsafe-fixes") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                warnings.push("`unsafeFixes` must be true or false".into());
                None
            }
        };
        (
            Settings {
                raw: value.clone(),
                max_file_size,
                unsafe_fixes,
                select,
                ignore,
                severity,
                extra_secret_names,
                allowed_placeholders,
            },
            warnings,
        )
    }

    /// What these settings say over the configuration files.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            select: self.select.clone(),
            ignore: self.ignore.clone(),
            fail_on: None,
            severity: self.severity.clone(),
            extra_secret_names: self.extra_secret_names.clone(),
            allowed_placeholders: self.allowed_placeholders.clone(),
            unsafe_fixes: self.unsafe_fixes,
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
            "ignore": ["unused-suppression"],
            "severity": {"hardcoded-secret": "error", "KL001": "loud"},
            "extra-secret-names": ["Pin"],
            "allowedPlaceholders": ["changeme", 3]
        }}));
        assert_eq!(s.select, Some(vec!["KL101"]));
        assert_eq!(s.ignore, Some(vec!["KL001"]));
        assert_eq!(s.severity, vec![("KL101", Severity::Error)]);
        assert_eq!(s.extra_secret_names, vec!["pin"]);
        assert_eq!(s.allowed_placeholders, vec!["changeme"]);
        assert_eq!(w.len(), 3, "{w:?}");
    }

    #[test]
    fn vscode_and_neovim_shapes_are_the_same() {
        let inner = json!({"select": ["KL101"]});
        let direct = Settings::from_value(&inner).0;
        let vscode = Settings::from_value(&json!({"settings": {"keylint": inner}})).0;
        let neovim = Settings::from_value(&json!({"keylint": inner})).0;
        assert_eq!(direct.select, Some(vec!["KL101"]));
        assert_eq!(vscode.select, direct.select);
        assert_eq!(neovim.select, direct.select);
    }

    #[test]
    fn empty_lists_mean_the_configuration_decides() {
        let (s, w) = Settings::from_value(&json!({"select": [], "ignore": [], "severity": {}}));
        assert_eq!(s.overrides(), Overrides::default());
        assert!(w.is_empty());
        let (s, _) = Settings::from_value(&json!({"select": ["KL999"]}));
        assert_eq!(
            s.select,
            Some(vec![]),
            "only unknown rules: nothing selected"
        );
    }

    #[test]
    fn max_file_size() {
        let (s, w) = Settings::from_value(&json!({"maxFileSize": 2048}));
        assert_eq!((s.max_file_size, w.len()), (Some(2048), 0));
        let (s, _) = Settings::from_value(&json!({"keylint": {"max-file-size": 0}}));
        assert_eq!(s.max_file_size, Some(0));
        let (s, w) = Settings::from_value(&json!({"maxFileSize": "1MB"}));
        assert_eq!((s.max_file_size, w.len()), (None, 1));
    }

    #[test]
    fn empty_value_means_defaults() {
        let (s, w) = Settings::from_value(&Value::Null);
        assert_eq!(s.select, None);
        assert!(w.is_empty());
    }

    #[test]
    fn rule_lists_take_code_prefixes() {
        let (s, w) = Settings::from_value(&json!({"select": ["KL101", "KL2"]}));
        assert!(w.is_empty(), "{w:?}");
        let select = s.select.unwrap();
        assert!(select.len() > 2 && select[1..].iter().all(|c| c.starts_with("KL2")));
    }
}

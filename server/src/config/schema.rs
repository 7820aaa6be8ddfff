//! The configuration schema: reads the keys of `keylint.toml` / `[tool.keylint]` with their spans,
//! so that every error names the file, the line and the key.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::{Spanned, Value};

use super::{did_you_mean, resolve_rule, Config, ConfigError, PathGlob};
use crate::finding::Severity;

/// Every key of the configuration.
pub const KEYS: [&str; 11] = [
    "select",
    "ignore",
    "per-file-ignores",
    "severity",
    "extra-secret-names",
    "allowed-placeholders",
    "exclude",
    "test-paths",
    "fail-on",
    "max-file-size",
    "unsafe-fixes",
];

type RawTable = BTreeMap<Spanned<String>, Spanned<Value>>;

#[derive(Deserialize)]
struct Pyproject {
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct Tool {
    keylint: Option<Spanned<RawTable>>,
}

pub(super) fn parse(
    text: &str,
    file: &Path,
    pyproject: bool,
) -> Result<Option<Config>, ConfigError> {
    let err_at =
        |span: Option<std::ops::Range<usize>>, key: Option<&str>, message: String| ConfigError {
            file: file.to_path_buf(),
            line: span.map(|s| line_of(text, s.start)),
            key: key.map(str::to_string),
            message,
        };
    let syntax = |e: toml::de::Error| err_at(e.span(), None, e.message().trim().to_string());
    let table: RawTable = if pyproject {
        let py: Pyproject = toml::from_str(text).map_err(syntax)?;
        match py.tool.and_then(|t| t.keylint) {
            Some(t) => t.into_inner(),
            None => return Ok(None),
        }
    } else {
        toml::from_str(text).map_err(syntax)?
    };
    let prefix = if pyproject { "tool.keylint." } else { "" };

    let root = super::absolute(file.parent().unwrap_or(Path::new(".")));
    let mut config = Config {
        file: Some(super::absolute(file)),
        root,
        ..Config::default()
    };
    for (key, value) in &table {
        let name = key.get_ref().as_str();
        let full = format!("{prefix}{name}");
        let span = Some(key.span());
        let fail = |message: String| err_at(span.clone(), Some(&full), message);
        // An error about a key of a nested table (`severity`, `per-file-ignores`): at that key's
        // line, found after the table's own key, and named `table.key`.
        let fail_inner = |inner: &str, message: String| {
            let from = key.span().start;
            let at = text[from..]
                .find(inner)
                .map(|i| from + i..from + i + inner.len());
            err_at(
                at.or(span.clone()),
                Some(&format!("{full}.{inner}")),
                message,
            )
        };
        let v = value.get_ref();
        match name {
            "select" => config.select = Some(rules(v).map_err(fail)?),
            "ignore" => config.ignore = rules(v).map_err(fail)?,
            "per-file-ignores" => {
                let t = v
                    .as_table()
                    .ok_or_else(|| fail("expected a table of glob = [codes]".into()))?;
                for (pattern, codes) in t {
                    let glob = PathGlob::new(pattern)
                        .map_err(|e| fail_inner(pattern, format!("bad glob: {e}")))?;
                    let codes = rules(codes).map_err(|m| fail_inner(pattern, m))?;
                    config.per_file_ignores.push((glob, codes));
                }
            }
            "severity" => {
                let t = v
                    .as_table()
                    .ok_or_else(|| fail("expected a table of rule = \"severity\"".into()))?;
                for (rule, sev) in t {
                    let codes = resolve_rule(rule).map_err(|m| fail_inner(rule, m))?;
                    let sev = severity(sev).map_err(|m| fail_inner(rule, m))?;
                    for code in codes {
                        config.severity.retain(|(c, _)| *c != code);
                        config.severity.push((code, sev));
                    }
                }
            }
            "extra-secret-names" => {
                config.extra_secret_names = strings(v)
                    .map_err(fail)?
                    .into_iter()
                    .map(|s| s.to_ascii_lowercase())
                    .collect()
            }
            "allowed-placeholders" => config.allowed_placeholders = strings(v).map_err(fail)?,
            "exclude" => config.exclude = globs(v).map_err(fail)?,
            "test-paths" => config.test_paths = globs(v).map_err(fail)?,
            "fail-on" => config.fail_on = Some(severity(v).map_err(fail)?),
            "max-file-size" => {
                config.max_file_size = Some(
                    v.as_integer()
                        .and_then(|n| u64::try_from(n).ok())
                        .ok_or_else(|| {
                            fail("expected a number of bytes (0 for no limit)".into())
                        })?,
                )
            }
            "unsafe-fixes" => {
                config.unsafe_fixes = v
                    .as_bool()
                    .ok_or_else(|| fail("expected true or false".into()))?
            }
            other => {
                let hint = did_you_mean(other, &KEYS)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_else(|| format!("; known keys: {}", KEYS.join(", ")));
                return Err(fail(format!("unknown key{hint}")));
            }
        }
    }
    Ok(Some(config))
}

/// 1-based line of a byte offset.
fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn strings(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("expected a string, found {}", i.type_str()))
            })
            .collect(),
        other => Err(format!(
            "expected a list of strings, found {}",
            other.type_str()
        )),
    }
}

fn rules(v: &Value) -> Result<Vec<&'static str>, String> {
    let mut out = Vec::new();
    for item in strings(v)? {
        for code in resolve_rule(&item)? {
            if !out.contains(&code) {
                out.push(code);
            }
        }
    }
    Ok(out)
}

fn globs(v: &Value) -> Result<Vec<PathGlob>, String> {
    strings(v)?
        .iter()
        .map(|p| PathGlob::new(p).map_err(|e| format!("bad glob `{p}`: {e}")))
        .collect()
}

fn severity(v: &Value) -> Result<Severity, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("expected a severity string, found {}", v.type_str()))?;
    Severity::parse(s).ok_or_else(|| {
        format!("unknown severity `{s}`; expected one of error, warning, info, hint")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Option<Config>, ConfigError> {
        parse(text, Path::new("/p/keylint.toml"), false)
    }

    #[test]
    fn reads_every_key() {
        let c = parse_str(
            r#"
select = ["KL101"]
ignore = []
per-file-ignores = { "scripts/*" = ["hardcoded-secret"] }
severity = { KL101 = "error" }
extra-secret-names = ["Stripe"]
allowed-placeholders = ["changeme"]
exclude = ["build"]
test-paths = ["qa"]
fail-on = "error"
"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.select, Some(vec!["KL101"]));
        assert_eq!(c.per_file_ignores[0].1, vec!["KL101"]);
        assert_eq!(c.severity, vec![("KL101", Severity::Error)]);
        assert_eq!(c.extra_secret_names, vec!["stripe"]);
        assert_eq!(c.fail_on, Some(Severity::Error));
    }

    #[test]
    fn unknown_key_names_line_and_suggests() {
        let e = parse_str("select = [\"KL101\"]\n\nper_file_ignores = {}\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key.as_deref(), Some("per_file_ignores"));
        assert!(e.message.contains("did you mean `per-file-ignores`"), "{e}");
    }

    #[test]
    fn pyproject_without_table_is_none_and_keys_are_prefixed() {
        let p = Path::new("/p/pyproject.toml");
        assert!(parse("[tool.black]\nline-length = 88\n", p, true)
            .unwrap()
            .is_none());
        let e = parse(
            "[project]\nname='x'\n[tool.keylint]\nfail-on = \"loud\"\n",
            p,
            true,
        )
        .unwrap_err();
        assert_eq!(e.line, Some(4));
        assert_eq!(e.key.as_deref(), Some("tool.keylint.fail-on"));
    }

    #[test]
    fn errors_in_nested_tables_name_the_inner_key_and_its_line() {
        let e = parse_str(
            "fail-on = \"hint\"\n[severity]\nKL101 = \"error\"\nhardcoded-secrets = \"error\"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        assert_eq!(e.key.as_deref(), Some("severity.hardcoded-secrets"));
        assert!(e.message.contains("did you mean `hardcoded-secret`"), "{e}");
        let e = parse_str("[per-file-ignores]\n\"a/*\" = [\"KL101\"]\n\"b/*\" = [\"KL1x\"]\n")
            .unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert_eq!(e.key.as_deref(), Some("per-file-ignores.b/*"));
    }

    #[test]
    fn bad_rule_code_is_an_error() {
        let e = parse_str("ignore = [\"KL999\"]\n").unwrap_err();
        assert!(e.message.contains("unknown rule `KL999`"), "{e}");
    }
}

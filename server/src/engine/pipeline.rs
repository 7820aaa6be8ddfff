//! The one composition the CLI and the language server share: options from the configuration,
//! the analysis, then [`postprocess`](super::postprocess). Fixes (one file's quick fixes, fix-all)
//! are taken from its findings, so suppressed findings are never fixed and `KL001`'s own fix comes
//! through like any other.

use std::path::Path;

use tree_sitter::Tree;

use super::fixes::{apply_edits, fix_all_edits};
use super::{Analysis, Analyzer};
use crate::config::Config;
use crate::document::{SourceText, TreeView};

/// Analyses one parsed file under `config`: the findings are the reported ones (rules enabled for
/// the file, severity overrides, suppressions applied, unused suppressions as `KL001`). `path` is
/// the file's path as the configuration sees it (`None`: an unsaved editor buffer).
pub fn analyze(
    analyzer: &mut Analyzer,
    tree: TreeView,
    src: SourceText,
    config: &Config,
    path: Option<&Path>,
) -> Analysis {
    analyze_rules(analyzer, tree, src, config, path, None)
}

/// [`analyze`] of a document held as a rope (the editor's): the text around the edit since the
/// analyzer's last run (the whole text for a first run) is first copied in one piece into the
/// analyzer's buffer, so that the run slices it without descending the rope
/// ([`SourceText::with_window`]; about 700 slices a keystroke in a FastAPI module, most of them
/// in the items the edit touched, each a descent of a deeper rope in a larger module). A copy of
/// the whole text on every keystroke would cost as much as the module is long (260 KB at 7,943
/// lines). The findings are those of [`analyze`] with `SourceText::new(rope)`.
pub fn analyze_rope(
    analyzer: &mut Analyzer,
    tree: TreeView,
    rope: &ropey::Rope,
    config: &Config,
    path: Option<&Path>,
) -> Analysis {
    let mut flat = std::mem::take(&mut analyzer.flat);
    // A buffer far larger than the text (the document shrank, or another was analysed) is not
    // kept.
    if flat.capacity() > 4 * rope.len_bytes() + (64 << 10) {
        flat = String::new();
    }
    flat.clear();
    let window = analyzer.text_window(rope).unwrap_or(0..rope.len_bytes());
    // With room for the keystrokes to come: a buffer the text's exact size is moved on the next
    // keystroke that lengthens it (a 288 KB module: a new mapping of its pages, faulted in by
    // the copy, 0.3 ms of the first keystroke after the document opened).
    if flat.capacity() < window.len() + (4 << 10) {
        flat.reserve(window.len() + window.len() / 8 + (8 << 10));
    }
    // Whole chunks (they end on char boundaries), from the one holding the window's start.
    let (chunks, at, _, _) = rope.chunks_at_byte(window.start);
    for chunk in chunks {
        if at + flat.len() >= window.end && !flat.is_empty() {
            break;
        }
        flat.push_str(chunk);
    }
    let analysis = analyze(
        analyzer,
        tree,
        SourceText::with_window(rope, &flat, at),
        config,
        path,
    );
    analyzer.flat = flat;
    analysis
}

/// [`analyze`], running only the enabled rules that `may_report` (`None`: every enabled rule).
/// `keylint check` leaves out the rules its pre-filter finds no word of in the file
/// (`engine::prefilter::Prefilter::rules`): they cannot report there, and the findings are the same.
pub fn analyze_rules(
    analyzer: &mut Analyzer,
    tree: TreeView,
    src: SourceText,
    config: &Config,
    path: Option<&Path>,
    may_report: Option<&dyn Fn(&str) -> bool>,
) -> Analysis {
    let at = path.unwrap_or(Path::new(""));
    let mut options = config.options_for(at);
    if path.is_none() {
        options.file.path = None;
    }
    if let Some(may_report) = may_report {
        let enabled = options
            .select
            .take()
            .unwrap_or_else(|| crate::rules::all().iter().map(|r| r.meta().code).collect());
        options.select = Some(enabled.into_iter().filter(|c| may_report(c)).collect());
    }
    let mut analysis = analyzer.analyze(tree, src, &options);
    let findings = std::mem::take(&mut analysis.findings);
    analysis.findings = super::postprocess::postprocess_known(
        findings,
        config,
        at,
        tree,
        src,
        Some(analysis.mentions_keylint),
    );
    crate::engine::fixes::agree(&mut analysis.findings, tree, src, &analysis.model);
    analysis
}

/// A parsed file: its text as a rope and its tree (what the analysis needs, without the editing
/// machinery of a `Document`).
pub struct Parsed {
    pub rope: ropey::Rope,
    pub tree: Tree,
    /// The text was not parsed: see [`crate::document::Document::too_deep`].
    pub too_deep: bool,
    /// The rope's text in one piece: the analysis slices it without descending the rope
    /// ([`SourceText::with_text`]).
    text: String,
}

impl Parsed {
    /// Parses `text` (see [`crate::document::parse_text`]).
    pub fn new(text: String) -> Self {
        let (tree, too_deep) = crate::document::parse_text(&text);
        Parsed {
            rope: ropey::Rope::from_str(&text),
            tree,
            too_deep,
            text,
        }
    }

    pub fn source(&self) -> SourceText<'_> {
        SourceText::with_text(&self.rope, &self.text)
    }

    pub fn view(&self) -> TreeView<'_> {
        TreeView::whole(&self.tree)
    }
}

/// Parses `text` and [`analyze`]s it with a fresh analyzer.
pub fn analyze_text(text: &str, config: &Config, path: Option<&Path>) -> (Parsed, Analysis) {
    let doc = Parsed::new(text.to_string());
    let analysis = analyze(&mut Analyzer::new(), doc.view(), doc.source(), config, path);
    (doc, analysis)
}

/// The outcome of [`fix_all`].
pub struct FixedText {
    pub text: String,
    /// Fixes applied, over all rounds.
    pub fixes: usize,
    /// The analysis of `text`.
    pub parsed: Parsed,
    pub analysis: Analysis,
}

/// Rounds of fixes at most (a fix may make another one possible; none loops forever).
const MAX_FIX_ROUNDS: usize = 10;

/// Fix-all, as `keylint check --fix` and the editor's `source.fixAll.keylint` do it: applies the
/// fixes of the reported findings of `text` (`analysis`, from [`analyze`] of `src`; safe fixes
/// only unless `include_unsafe` or the configuration's `unsafe-fixes = true`; never workspace
/// operations), re-analyses, and repeats until nothing changes. `None` when there is nothing to
/// fix.
pub fn fix_all(
    text: &str,
    src: SourceText,
    analysis: &Analysis,
    config: &Config,
    path: Option<&Path>,
    include_unsafe: bool,
) -> Option<FixedText> {
    let include_unsafe = include_unsafe || config.unsafe_fixes;
    let mut current = text.to_string();
    let mut fixes = 0;
    let mut last: Option<(Parsed, Analysis)> = None;
    for _ in 0..MAX_FIX_ROUNDS {
        let edits = match &last {
            None => fix_all_edits(analysis, src, include_unsafe),
            Some((p, a)) => fix_all_edits(a, p.source(), include_unsafe),
        };
        if edits.is_empty() {
            break;
        }
        let (new_text, _) = apply_edits(&current, &edits.0);
        if new_text == current {
            break;
        }
        fixes += edits.1;
        current = new_text;
        last = Some(analyze_text(&current, config, path));
    }
    let (parsed, analysis) = last?;
    Some(FixedText {
        text: current,
        fixes,
        parsed,
        analysis,
    })
}

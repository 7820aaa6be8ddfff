use std::sync::{Arc, Mutex, RwLock};
use keylint::document::{ContentChange, Document, Pos, PositionEncoding};
use keylint::engine::{Analyzer, Options};
use keylint::project::flow::{LiveFlow, LiveResolver};
use keylint::project::{ModuleSummary, Project};

#[test]
fn debug_typing() {
    let dir = std::path::PathBuf::from("/work/wt/plive/.bench-cache/fastapi_project_50/app");
    let mut paths = vec![dir.join("repository.py")];
    for i in 0..50 { paths.push(dir.join(format!("routes_{i:03}.py"))); }
    let texts: Vec<String> = paths.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    let mut project = Project::new();
    let ids = project.add(&paths);
    for (&m, t) in ids.iter().zip(&texts) {
        let d = Document::new(t, 0);
        project.modules[m].summary = Some(Arc::new(keylint::engine::summarise::summarise(d.view(), d.source(), &Options::default())));
    }
    let project = Arc::new(RwLock::new(project));
    let flow = Arc::new(Mutex::new(LiveFlow::default()));
    let mut docs: Vec<Document> = texts.iter().map(|t| Document::new(t, 1)).collect();
    let mut an: Vec<Analyzer> = ids.iter().map(|&m| { let mut a = Analyzer::new(); a.set_resolver(Some(Arc::new(LiveResolver::new(project.clone(), flow.clone(), m)))); a }).collect();
    let opts = Options::default();
    let mut run = |i: usize, docs: &Vec<Document>, an: &mut Vec<Analyzer>| {
        let a = an[i].analyze(docs[i].view(), docs[i].source(), &opts);
        let s = ModuleSummary::new(an[i].flows(), &a.model, docs[i].view(), docs[i].source());
        let mut p = project.write().unwrap();
        if p.modules[ids[i]].summary.as_deref() != Some(&s) { p.modules[ids[i]].summary = Some(Arc::new(s)); }
        a.findings.len()
    };
    for i in 0..paths.len() { run(i, &docs, &mut an); }
    let _ = flow.lock().unwrap().take_stale(&project.read().unwrap());
    let line = "logger.info(\"audit %s by %s\", event, key)";
    let lines: Vec<&str> = texts[0].split('\n').collect();
    let def = lines.iter().position(|l| l.starts_with("def audit(")).unwrap();
    let last = def + 1;
    let mut edits = vec![((last as u32, lines[last].len() as u32), "\n    ".to_string())];
    let mut col = 4;
    for ch in line.chars() { edits.push((((last + 1) as u32, col), ch.to_string())); col += 1; }
    for (v, ((l, c), ins)) in edits.into_iter().enumerate() {
        docs[0].apply_changes(&[ContentChange { range: Some((Pos::new(l, c), Pos::new(l, c))), text: ins.clone() }], v as i32 + 2, PositionEncoding::Utf8);
        let t0 = std::time::Instant::now();
        let n = run(0, &docs, &mut an);
        let t_own = t0.elapsed();
        let st = flow.lock().unwrap().stats();
        let stale = flow.lock().unwrap().take_stale(&project.read().unwrap());
        let t1 = std::time::Instant::now();
        let mut conv = std::time::Duration::ZERO;
        for &m in &stale {
            let i = ids.iter().position(|&x| x == m).unwrap();
            let a = an[i].analyze(docs[i].view(), docs[i].source(), &opts);
            let t = std::time::Instant::now();
            let uri = format!("file://{}", paths[i].display()).parse().unwrap();
            let _ = keylint::lsp::convert::diagnostics(&uri, &docs[i], &a, PositionEncoding::Utf16);
            conv += t.elapsed();
        }
        println!("own {:?} stale {} total {:?} of which convert {:?}", t_own, stale.len(), t1.elapsed(), conv);
        let stale: Vec<usize> = Vec::new();
        let starts: Vec<usize> = an[0].flows().map(|(_, s)| s).collect();
        println!("{ins:?} findings {n} stale {stale:?} stats {st:?} starts {starts:?}");
    }
}

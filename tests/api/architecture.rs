//! The shape of `src/`, checked: no import cycle between modules, the layers' arrows point one
//! way (see ARCHITECTURE.md), and no source file grows past 600 lines.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

/// The longest a file in `src/` may be.
const MAX_LINES: usize = 600;

/// Each source file of `src/` by module path (`service::controls`; `lib.rs` is the root, ``).
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files
        .into_iter()
        .filter(|f| !f.ends_with("main.rs"))
        .map(|file| {
            let relative = file
                .strip_prefix(&root)
                .expect("under src/")
                .with_extension("");
            let mut parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            let text = std::fs::read_to_string(&file).expect("a readable source file");
            (parts.join("::"), text)
        })
        .collect()
}

/// The text without `//` comments (doc comments name modules without importing them).
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::…` path the text names, with `use crate::{a::{b, c}, d}` trees expanded.
fn crate_paths(text: &str) -> Vec<String> {
    fn expand(tree: &str, prefix: &str, out: &mut Vec<String>) {
        let (mut depth, mut start) = (0, 0);
        let mut items = Vec::new();
        for (i, ch) in tree.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&tree[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(&tree[start..]);
        for item in items.into_iter().map(str::trim).filter(|i| !i.is_empty()) {
            match item.split_once('{') {
                Some((head, rest)) => {
                    let inner = rest.rsplit_once('}').map_or(rest, |(inner, _)| inner);
                    let head = head.trim().trim_end_matches("::");
                    expand(inner, &join(prefix, head), out);
                }
                None => {
                    let name = item.split(" as ").next().unwrap_or(item).trim();
                    let name = name.trim_end_matches("::self");
                    out.push(join(prefix, if name == "self" { "" } else { name }));
                }
            }
        }
    }
    fn join(prefix: &str, rest: &str) -> String {
        match (prefix.is_empty(), rest.is_empty()) {
            (true, _) => rest.to_owned(),
            (_, true) => prefix.to_owned(),
            _ => format!("{prefix}::{rest}"),
        }
    }
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(tree) = after.strip_prefix('{') {
            let (mut depth, mut end) = (1, tree.len());
            for (i, ch) in tree.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            expand(&tree[..end], "", &mut out);
            rest = &tree[end..];
        } else {
            let len = after
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(after.len());
            out.push(after[..len].trim_end_matches(':').to_owned());
            rest = &after[len..];
        }
    }
    out
}

/// The module a path names: its longest prefix that is a module of `src/`.
fn module_of<'a>(path: &str, modules: &'a BTreeMap<String, String>) -> Option<&'a str> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .find_map(|n| modules.get_key_value(&parts[..n].join("::")))
        .map(|(name, _)| name.as_str())
}

/// Module → the modules it imports (itself and the crate root aside).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    modules
        .iter()
        .map(|(name, text)| {
            let targets = crate_paths(&code(text))
                .iter()
                .filter_map(|path| module_of(path, &modules))
                .filter(|target| *target != name && !target.is_empty())
                .map(str::to_owned)
                .collect();
            (name.clone(), targets)
        })
        .collect()
}

/// A cycle in `graph`, if there is one: its modules, the first repeated at the end.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// The graph between top-level modules (`service::controls` → `service`).
fn top_level(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    let top = |m: &str| m.split("::").next().unwrap_or(m).to_owned();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, targets) in graph {
        for to in targets {
            if top(from) != top(to) {
                out.entry(top(from)).or_default().insert(top(to));
            }
        }
    }
    out
}

#[test]
fn no_module_imports_itself_through_others() {
    let graph = imports();
    assert!(graph.len() > 40, "src/ was read ({} modules)", graph.len());
    assert_eq!(find_cycle(&graph), None, "an import cycle between files");
    assert_eq!(
        find_cycle(&top_level(&graph)),
        None,
        "an import cycle between top-level modules"
    );
}

#[test]
fn the_layers_import_downwards_only() {
    let top = top_level(&imports());
    // What each layer must not import (ARCHITECTURE.md).
    let forbidden: [(&str, &[&str]); 5] = [
        (
            "domain",
            &["api", "service", "store", "state", "auth", "startup"],
        ),
        ("store", &["api", "service", "state", "startup"]),
        ("service", &["api", "state", "startup"]),
        ("auth", &["api", "service", "store", "state"]),
        ("crypto", &["api", "service", "store", "state", "auth"]),
    ];
    for (layer, banned) in forbidden {
        let found: Vec<&String> = top
            .get(layer)
            .into_iter()
            .flatten()
            .filter(|t| banned.contains(&t.as_str()))
            .collect();
        assert!(found.is_empty(), "`{layer}` imports {found:?}");
    }
    for (name, text) in modules() {
        if name == "domain" || name.starts_with("domain::") {
            // The stored value sets (`entity::values`) are the only part of the tables the
            // domain sees.
            let text = code(&text).replace("entity::values", "");
            for banned in ["actix_web", "sea_orm", "entity::"] {
                assert!(!text.contains(banned), "`{name}` uses {banned}");
            }
        }
    }
}

#[test]
fn sql_is_written_in_the_store_only() {
    for (name, text) in modules() {
        if name == "store" || name.starts_with("store::") {
            continue;
        }
        let text = code(&text);
        for marker in [
            "from_sql_and_values",
            "Statement::from_string",
            "query_all_raw",
            "query_one_raw",
            "execute_raw",
            "Expr::cust",
            "DbBackend::",
            "DatabaseBackend::",
        ] {
            assert!(!text.contains(marker), "`{name}` uses {marker}");
        }
    }
}

#[test]
fn no_source_file_is_longer_than_the_limit() {
    let long: Vec<(String, usize)> = modules()
        .into_iter()
        .map(|(name, text)| (name, text.lines().count()))
        .filter(|(_, lines)| *lines > MAX_LINES)
        .collect();
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:?}");
}

#[test]
fn the_import_reader_sees_nested_use_trees() {
    let paths = crate_paths("use crate::{a::{b, c::{d as e}}, f::self, g}; x(crate::h::i::J)");
    assert_eq!(paths, ["a::b", "a::c::d", "f", "g", "h::i::J"]);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_cycle(&graph), None);
    graph.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

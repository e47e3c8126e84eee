//! Finds circles among the files of one crate: file A imports from B, B (directly or
//! through others) from A. A circle means neither file can be read, tested or moved
//! without the other, so `cargo xtask lint` refuses any.
//!
//! The imports are read as text (comments and string literals removed): every `use` tree
//! and every inline `crate::`/`super::`/`self::` path. A name is followed through `pub use`
//! re-exports to the file that defines it, so a module that re-exports its children is not
//! a circle with them. Declaring a child (`mod x;`) is not an import.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// One crate's source files: the module path of each, what each imports.
struct Crate {
    /// Module path (e.g. `["persist", "shapes"]`) of every file; the root is `[]`.
    modules: BTreeMap<Vec<String>, PathBuf>,
    /// For each module, `pub use` names: the name as seen from outside → its full path.
    reexports: BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>>,
    /// For each module, every absolute path it refers to.
    refs: BTreeMap<Vec<String>, Vec<Vec<String>>>,
}

/// Checks every crate of the workspace rooted at `root`; the error lists each circle.
pub fn check(root: &Path) -> Result<(), String> {
    let mut src_dirs = vec![
        root.join("src"),
        root.join("xtask/src"),
        root.join("benches/src"),
    ];
    let crates = fs::read_dir(root.join("crates")).map_err(|e| format!("crates/: {e}"))?;
    for entry in crates.flatten() {
        src_dirs.push(entry.path().join("src"));
    }
    src_dirs.retain(|d| d.is_dir());
    src_dirs.sort();
    let mut report = Vec::new();
    for dir in &src_dirs {
        for circle in circles_in(dir)? {
            let names: Vec<String> = circle
                .iter()
                .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string())
                .collect();
            report.push(format!("  {}", names.join(" -> ")));
        }
    }
    if report.is_empty() {
        println!("no circles among the files of {} crates", src_dirs.len());
        Ok(())
    } else {
        Err(format!(
            "{} circle(s) among a crate's files (each file imports, through the others, from itself):\n{}",
            report.len(),
            report.join("\n")
        ))
    }
}

/// The circles (strongly connected sets of two or more files) of the crate in `src`.
fn circles_in(src: &Path) -> Result<Vec<Vec<PathBuf>>, String> {
    let krate = read_crate(src)?;
    let edges = krate.edges();
    Ok(strongly_connected(&edges)
        .into_iter()
        .filter(|c| c.len() > 1)
        .collect())
}

fn read_crate(src: &Path) -> Result<Crate, String> {
    let mut modules = BTreeMap::new();
    collect_files(src, src, &mut modules)?;
    let mut reexports = BTreeMap::new();
    let mut refs = BTreeMap::new();
    let all: BTreeSet<Vec<String>> = modules.keys().cloned().collect();
    for (module, file) in &modules {
        let text = fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let code = strip_test_modules(&strip_comments_and_strings(&text));
        let (uses, inline) = paths_of(&code);
        let mut own_refs = Vec::new();
        let mut own_exports = BTreeMap::new();
        for u in uses {
            if let Some(abs) = absolute(module, &u.path, &all) {
                if u.public {
                    if let Some(last) = u.alias.clone().or_else(|| abs.last().cloned()) {
                        if last != "*" && last != "self" {
                            own_exports.insert(last, abs.clone());
                        }
                    }
                }
                // A module re-exporting its own descendant declares its interface, as
                // `mod x;` does: no import.
                let declares = u.public && abs.len() > module.len() + 1 && abs.starts_with(module);
                if !declares {
                    own_refs.push(abs);
                }
            }
        }
        for p in inline {
            if let Some(abs) = absolute(module, &p, &all) {
                own_refs.push(abs);
            }
        }
        reexports.insert(module.clone(), own_exports);
        refs.insert(module.clone(), own_refs);
    }
    Ok(Crate {
        modules,
        reexports,
        refs,
    })
}

impl Crate {
    /// File → files it imports from (itself excluded).
    fn edges(&self) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
        let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
        for (module, paths) in &self.refs {
            let from = self.modules[module].clone();
            let entry = edges.entry(from.clone()).or_default();
            for p in paths {
                if let Some(to) = self.resolve(p, 0) {
                    if to != from && to != self.modules[&Vec::new()] {
                        entry.insert(to);
                    }
                }
            }
        }
        edges
    }

    /// The file that defines what `path` names: the deepest module on the path, then
    /// through that module's re-export of the next name, if it has one.
    fn resolve(&self, path: &[String], depth: usize) -> Option<PathBuf> {
        let mut k = path.len();
        while k > 0 && !self.modules.contains_key(&path[..k]) {
            k -= 1;
        }
        let module = &path[..k];
        if depth < 8 {
            if let Some(name) = path.get(k) {
                if let Some(target) = self.reexports.get(module).and_then(|r| r.get(name)) {
                    let mut next = target.clone();
                    next.extend_from_slice(&path[k + 1..]);
                    if next != path {
                        return self.resolve(&next, depth + 1);
                    }
                }
            }
        }
        self.modules.get(module).cloned()
    }
}

fn collect_files(
    src: &Path,
    dir: &Path,
    out: &mut BTreeMap<Vec<String>, PathBuf>,
) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(src, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(src).expect("below src");
            let mut segs: Vec<String> = rel
                .iter()
                .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_string())
                .collect();
            let last = segs.last().cloned().unwrap_or_default();
            if last == "mod" || (segs.len() == 1 && (last == "lib" || last == "main")) {
                segs.pop();
            }
            // A binary's extra entry points (src/bin/*) are crates of their own.
            if segs.first().is_some_and(|s| s == "bin") {
                continue;
            }
            out.insert(segs, path);
        }
    }
    Ok(())
}

/// A path of a `use` tree, with whether the `use` is public and its `as` name.
struct Use {
    path: Vec<String>,
    alias: Option<String>,
    public: bool,
}

/// Turns `path` as written in `module` into an absolute module path, or `None` for a
/// path outside the crate (another crate, the standard library).
fn absolute(
    module: &[String],
    path: &[String],
    all: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    let first = path.first()?;
    let mut out: Vec<String>;
    let rest: &[String];
    match first.as_str() {
        "crate" => {
            out = Vec::new();
            rest = &path[1..];
        }
        "self" => {
            out = module.to_vec();
            rest = &path[1..];
        }
        "super" => {
            out = module.to_vec();
            let mut i = 0;
            while path.get(i).is_some_and(|s| s == "super") {
                out.pop()?;
                i += 1;
            }
            rest = &path[i..];
        }
        _ => {
            // Edition 2018: a bare first segment is a child module when one exists.
            let mut child = module.to_vec();
            child.push(first.clone());
            if all.contains(&child) {
                out = module.to_vec();
                rest = path;
            } else {
                return None;
            }
        }
    }
    out.extend(rest.iter().cloned());
    Some(out)
}

/// Every `use` path and every inline `crate::`, `super::`, `self::` path of `code`.
fn paths_of(code: &str) -> (Vec<Use>, Vec<Vec<String>>) {
    let mut uses = Vec::new();
    let mut rest = code;
    let mut outside_uses = String::new();
    while let Some(at) = find_word(rest, "use") {
        let before = &rest[..at];
        let public = before.trim_end().ends_with("pub")
            || before.trim_end().ends_with(')') && before.trim_end().contains("pub(");
        outside_uses.push_str(before);
        let after = &rest[at + 3..];
        let end = after.find(';').unwrap_or(after.len());
        // `a as b` becomes `a@b` before the whitespace goes, so no identifier holding
        // the letters "as" is cut.
        let spaced = after[..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let tree: String = spaced.replace(" as ", "@").replace(' ', "");
        expand_tree(&tree, &mut Vec::new(), public, &mut uses);
        rest = &after[(end + 1).min(after.len())..];
    }
    outside_uses.push_str(rest);
    // Every `a::b::c` path outside the `use`s; `absolute` keeps those that start at
    // `crate`, `super`, `self` or a child module.
    let mut inline = Vec::new();
    let bytes = outside_uses.as_bytes();
    let is_path = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b':';
    let mut i = 0;
    while i < bytes.len() {
        if is_path(bytes[i]) && (i == 0 || !is_path(bytes[i - 1])) {
            let mut j = i;
            while j < bytes.len() && is_path(bytes[j]) {
                j += 1;
            }
            let segs: Vec<String> = outside_uses[i..j].split("::").map(str::to_string).collect();
            if segs.len() > 1 && segs.iter().all(|s| !s.is_empty()) {
                inline.push(segs);
            }
            i = j;
        } else {
            i += 1;
        }
    }
    (uses, inline)
}

/// The byte offset of `word` in `s` where it stands as a whole identifier.
fn find_word(s: &str, word: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(i) = s[from..].find(word) {
        let at = from + i;
        let end = at + word.len();
        let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let left_ok = at == 0 || !ident(bytes[at - 1]) && bytes[at - 1] != b':';
        let right_ok = end >= bytes.len() || !ident(bytes[end]);
        if left_ok && right_ok {
            return Some(at);
        }
        from = end;
    }
    None
}

/// Expands a whitespace-free use tree (`a::{b,c::{d,e}}`) into its paths.
fn expand_tree(tree: &str, prefix: &mut Vec<String>, public: bool, out: &mut Vec<Use>) {
    let tree = tree.trim_start_matches("::");
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = tree[..open]
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let n = prefix.len();
        prefix.extend(head);
        for part in split_top(inner) {
            expand_tree(part, prefix, public, out);
        }
        prefix.truncate(n);
    } else if !tree.is_empty() {
        let (path, alias) = match tree.split_once('@') {
            Some((p, a)) => (p, Some(a.to_string())),
            None => (tree, None),
        };
        let mut full = prefix.clone();
        full.extend(
            path.split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
        if full.last().is_some_and(|s| s == "self") {
            full.pop();
        }
        out.push(Use {
            path: full,
            alias,
            public,
        });
    }
}

/// Splits `a,b::{c,d},e` at the commas outside braces.
fn split_top(s: &str) -> Vec<&str> {
    let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Source text with comments, string and char literals blanked out (lengths kept).
fn strip_comments_and_strings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && raw_string_at(&chars, i) {
            // r"..." or r#"..."#
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && is_char_literal(&chars, i) {
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Code with every `#[cfg(test)]` item removed: what tests import is not the file's
/// structure.
fn strip_test_modules(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        // The item ends at its `;` or at the brace closing its first `{`.
        let semi = after.find(';');
        let brace = after.find('{');
        let end = match (brace, semi) {
            (Some(b), s) if s.is_none_or(|s| b < s) => {
                let mut depth = 0;
                let mut end = after.len();
                for (i, c) in after[b..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = b + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (_, Some(s)) => s + 1,
            _ => after.len(),
        };
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn raw_string_at(chars: &[char], i: usize) -> bool {
    let prev_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    if prev_ident {
        return false;
    }
    let mut j = i + 1;
    while chars.get(j) == Some(&'#') {
        j += 1;
    }
    chars.get(j) == Some(&'"')
}

/// A quote that opens a char literal (`'a'`, `'\n'`), not a lifetime (`'a`).
fn is_char_literal(chars: &[char], i: usize) -> bool {
    matches!(
        (chars.get(i + 1), chars.get(i + 2)),
        (Some('\\'), _) | (Some(_), Some('\''))
    )
}

/// Tarjan's strongly connected components, each sorted, in a stable order.
fn strongly_connected(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct State<'a> {
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        on_stack: BTreeSet<&'a PathBuf>,
        out: Vec<Vec<PathBuf>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a PathBuf) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        let edges = s.edges;
        for w in edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            component.sort();
            s.out.push(component);
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out.sort();
    s.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (name, text) in files {
            let path = dir.join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
    }

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-circles-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn finds_a_circle_through_a_use_tree_and_an_inline_path() {
        let dir = tmp("circle");
        write(
            &dir,
            &[
                ("lib.rs", "mod a;\nmod b;\nmod c;\npub use a::A;\n"),
                (
                    "a.rs",
                    "use crate::{b::{B, other}, c as cc};\npub struct A;\n",
                ),
                (
                    "b.rs",
                    "// use crate::a::A; in a comment is no import\npub struct B;\n",
                ),
                (
                    "c.rs",
                    "pub fn f() -> crate::A { let _ = \"crate::b\"; crate::A }\n",
                ),
            ],
        );
        let circles = circles_in(&dir).unwrap();
        assert_eq!(circles, vec![vec![dir.join("a.rs"), dir.join("c.rs")]]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_module_reexporting_its_children_is_no_circle() {
        let dir = tmp("reexport");
        write(
            &dir,
            &[
                ("lib.rs", "pub mod m;\n"),
                (
                    "m/mod.rs",
                    "mod x;\nmod y;\npub use x::X;\npub use self::y::Y;\n",
                ),
                ("m/x.rs", "use super::Y;\npub struct X;\n"),
                (
                    "m/y.rs",
                    "pub struct Y<'a>(&'a u8);\nconst C: char = '\\'';\n",
                ),
            ],
        );
        assert!(circles_in(&dir).unwrap().is_empty());
        // A parent that uses what its child defines, while the child uses what the parent
        // defines, is a circle.
        write(
            &dir,
            &[
                (
                    "m/mod.rs",
                    "mod x;\nmod y;\npub struct Z;\nfn f() -> x::X { x::X }\n",
                ),
                ("m/x.rs", "use super::Z;\npub struct X;\n"),
            ],
        );
        assert_eq!(circles_in(&dir).unwrap().len(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }
}

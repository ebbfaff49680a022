//! The differ narrows both states to what can differ before building its graphs
//! (`src/diff/focus.rs`). That must never change its answer: on every project of the
//! repository, each layer's up and down changes are the same as on the whole states. (The
//! random chains of `tests/chains.rs` and the synthetic projects of `tests/synth.rs` are
//! compared the same way.)

mod support;

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every project folder in the repository that compiles.
fn projects() -> Vec<PathBuf> {
    let mut out = vec![
        root(),
        root().join("examples/app-auth"),
        root().join("examples/support-tickets"),
    ];
    for group in [
        "tests/corpus",
        "tests/chains_regressions",
        "tests/near_misses",
    ] {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join(group))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("specs").is_dir())
            .collect();
        dirs.sort();
        out.extend(dirs);
    }
    out
}

#[test]
fn narrowed_diffs_equal_whole_diffs_on_every_project() {
    let mut compared = 0;
    let mut failures = Vec::new();
    for p in projects() {
        match support::compare_focused_diffs(&p) {
            Ok(n) => compared += n,
            Err(e) => failures.push(format!("{}: {e}", p.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(compared > 100, "only {compared} diffs compared");
}

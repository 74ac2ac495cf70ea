//! The README's rule table is the rule list's own text (`Rule::ALL`, `Rule::doc`): a rule
//! added or reworded in the code and not in the README fails here. `REGENERATE=1` rewrites the
//! table in place.

use iso8583_inspect::finding::{Rule, markdown_table};

const START: &str = "<!-- rules: generated from Rule::ALL (src/finding/doc.rs); tests/readme.rs checks it, REGENERATE=1 rewrites it -->\n";
const END: &str = "<!-- /rules -->";

#[test]
fn the_rule_table_is_generated_from_the_rule_list() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let start = readme
        .find(START)
        .expect("the README has the rule table's markers")
        + START.len();
    let end = start + readme[start..].find(END).unwrap();
    let table = markdown_table();
    if std::env::var_os("REGENERATE").is_some() {
        let new = format!("{}{table}{}", &readme[..start], &readme[end..]);
        std::fs::write(path, new).unwrap();
        return;
    }
    assert_eq!(
        &readme[start..end],
        table,
        "run with REGENERATE=1 and review the diff"
    );
    // Every id once, every id stable in form.
    let mut ids: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), Rule::ALL.len());
    assert!(
        ids.iter()
            .all(|id| id.bytes().all(|c| c.is_ascii_lowercase() || c == b'-'))
    );
}

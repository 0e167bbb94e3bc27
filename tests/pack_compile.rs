use claimlint::rules::RuleSet;

#[test]
fn shipped_packs_compile() {
    match RuleSet::shipped() {
        Ok(set) => assert_eq!(set.packs[0].rules.len(), 4),
        Err(errors) => {
            for e in &errors {
                for (line, col, msg) in e.locations() {
                    eprintln!("{}:{line}:{col}: {msg}", e.path.display());
                }
            }
            panic!("shipped packs do not compile");
        }
    }
}

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

#[test]
fn every_shipped_rule_has_examples() {
    let set = RuleSet::shipped().expect("shipped packs compile");
    assert_eq!(set.packs.len(), 2);
    for pack in &set.packs {
        for rule in &pack.rules {
            assert!(
                rule.examples.is_some(),
                "{} has no examples for its documentation",
                rule.code
            );
        }
    }
}

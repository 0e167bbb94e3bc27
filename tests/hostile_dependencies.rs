//! claimlint makes no network connections. This test keeps HTTP, TLS and
//! socket client crates out of the dependency tree, so that a new
//! dependency cannot add one unnoticed.

/// Crates whose only purpose is a network client or its transport.
const NETWORK_CRATES: &[&str] = &[
    "reqwest",
    "hyper",
    "hyper-util",
    "ureq",
    "curl",
    "curl-sys",
    "isahc",
    "surf",
    "attohttpc",
    "reqwasm",
    "h2",
    "h3",
    "quinn",
    "http-client",
    "awc",
    "actix-http",
    "ehttp",
    "minreq",
    "tokio",
    "async-std",
    "mio",
    "socket2",
    "rustls",
    "native-tls",
    "openssl",
    "openssl-sys",
];

#[test]
fn no_network_client_in_dependencies() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock"))
        .expect("Cargo.lock");
    let names: Vec<&str> = lock
        .lines()
        .filter_map(|line| line.strip_prefix("name = \""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .collect();
    assert!(
        names.contains(&"claimlint"),
        "Cargo.lock lists the crate itself"
    );

    let found: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| NETWORK_CRATES.contains(name))
        .collect();
    assert!(found.is_empty(), "network crates in Cargo.lock: {found:?}");
}

#[test]
fn typescript_app_bindings_are_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ui/src/bindings/app.ts");
    let want = tally_client::view::bindings();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(path, &want).unwrap();
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(have == want, "ui/src/bindings/app.ts is stale: run `make bindings`");
}

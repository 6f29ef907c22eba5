//! The UI's TypeScript wire types are generated from the Rust ones. This fails when the committed file is
//! stale; `make bindings` (UPDATE_BINDINGS=1) rewrites it.
#[test]
fn typescript_bindings_are_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ui/src/bindings/protocol.ts");
    let want = tally_protocol::ts::bindings();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::create_dir_all(std::path::Path::new(path).parent().unwrap()).unwrap();
        std::fs::write(path, &want).unwrap();
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(have == want, "ui/src/bindings/protocol.ts is stale: run `make bindings`");
}

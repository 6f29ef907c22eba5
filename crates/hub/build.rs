//! Rebuilds the hub when a PostgreSQL migration is added (refinery embeds the directory at compile time).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}

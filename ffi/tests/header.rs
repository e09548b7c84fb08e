//! Header drift: `include/replicast.h` must be exactly what cbindgen generates from the sources.
//! `UPDATE_HEADER=1 cargo test -p replicast-ffi --test header` rewrites it.

use std::path::PathBuf;

#[test]
fn committed_header_matches_cbindgen() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).expect("the header is UTF-8");
    let path = crate_dir.join("include/replicast.h");
    if std::env::var_os("UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write include/replicast.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/replicast.h is stale: run `UPDATE_HEADER=1 cargo test -p replicast-ffi --test header` and commit it"
    );
}

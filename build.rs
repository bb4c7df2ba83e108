//! Generates include/raptoken.h with cbindgen, and gives the shared library its SONAME.

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    // cbindgen reads the whole crate (a pub const anywhere can reach the header).
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");

    let version = std::env::var("CARGO_PKG_VERSION").unwrap();
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
    // SONAME carries the ABI generation. For 0.x every minor is a new ABI, as Cargo treats it.
    let abi = if major == "0" { format!("0.{}", std::env::var("CARGO_PKG_VERSION_MINOR").unwrap()) } else { major.clone() };
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libraptoken.so.{abi}");
    }

    let mut config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    config.after_includes = Some(format!(
        "\n/* The version of this header; compare with rapidata_version() at run time. */\n\
         #define RAPTOKEN_VERSION \"{version}\"\n\
         #define RAPTOKEN_VERSION_MAJOR {major}\n\
         #define RAPTOKEN_VERSION_MINOR {}\n\
         #define RAPTOKEN_VERSION_PATCH {}\n",
        std::env::var("CARGO_PKG_VERSION_MINOR").unwrap(),
        std::env::var("CARGO_PKG_VERSION_PATCH").unwrap(),
    ));
    let header = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate raptoken.h");
    let mut text = Vec::new();
    header.write(&mut text);
    let path = dir.join("include/raptoken.h");
    // Write only on change, so an unchanged header keeps its mtime and downstream builds stay warm.
    if std::fs::read(&path).ok().as_deref() != Some(&text[..]) {
        std::fs::create_dir_all(dir.join("include")).unwrap();
        std::fs::write(&path, &text).unwrap();
    }
}

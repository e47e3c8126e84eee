//! Lets this package's own binaries (examples, tests, benches) find libtorch at run time.
//!
//! torch-sys links the binaries against `libtorch_cpu.so` and `libc10.so` but records no
//! run-time search path for them, so without `LD_LIBRARY_PATH` a built example stops with
//! "libtorch_cpu.so: cannot open shared object file". When `LIBTORCH` names the libtorch
//! being built against (as `cargo xtask` and `eval "$(cargo xtask env)"` arrange), this
//! adds its `lib/` as an rpath. Link arguments of a build script reach only the package's
//! own targets, so crates that depend on this one are unaffected; `docs/setup.md` says
//! what a crates.io consumer does. The other packages that link libtorch (ae-models,
//! xai-attrib, lrp-ae) use this file through a symbolic link; `cargo package` stores its
//! contents.

use std::env;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let Some(libtorch) = env::var_os("LIBTORCH") else {
        return;
    };
    // ELF and Mach-O linkers take -rpath; Windows finds DLLs on PATH instead.
    if !matches!(
        env::var("CARGO_CFG_TARGET_OS").as_deref(),
        Ok("linux" | "macos" | "freebsd" | "netbsd" | "openbsd")
    ) {
        return;
    }
    let lib = Path::new(&libtorch).join("lib");
    match lib.to_str() {
        // -Wl splits its argument at commas, so such a path cannot be passed this way.
        Some(dir) if !dir.contains(',') && lib.is_dir() => {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        }
        _ => println!(
            "cargo:warning=no rpath to {} (not a directory, or a path -Wl cannot carry); run binaries with LD_LIBRARY_PATH set",
            lib.display()
        ),
    }
}

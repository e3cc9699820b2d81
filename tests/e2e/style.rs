//! The project's own checks, so CI fails when they do: rustfmt and clippy
//! with warnings denied (DEVELOPERS.md).

use std::process::Command;

fn cargo(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cargo: {e}"));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn code_is_formatted() {
    let (ok, out) = cargo(&["fmt", "--check"]);
    assert!(ok, "run `cargo fmt`:\n{out}");
}

#[test]
fn clippy_has_nothing_to_say() {
    let (ok, out) = cargo(&[
        "clippy",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]);
    assert!(ok, "cargo clippy --all-targets -- -D warnings:\n{out}");
}

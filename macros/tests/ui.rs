//! Compile-time behaviour of the macros: every misuse fails to compile with the message in
//! the `.stderr` file beside it, and every supported form compiles and its `main` runs.
//!
//! After changing a message, regenerate with `TRYBUILD=overwrite cargo test -p tidings-macros
//! --test ui` and read the diff.

#[test]
fn derive_event() {
    // One `TestCases` builds every case in one cargo invocation.
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/event/pass/*.rs");
    cases.compile_fail("tests/ui/event/fail/*.rs");
}

//! Tooling around handlers that a deployed function does not run, each behind its cargo
//! feature: in-process tests (`testing`), local runs against a local AWS-API server
//! (`local`), and artifacts generated from the handlers (`codegen`).

#[cfg(feature = "codegen")]
pub mod codegen;
#[cfg(feature = "local")]
pub mod local;
#[cfg(feature = "testing")]
pub mod testing;

//! Logging set-up for a deployed handler.
//!
//! Logs go to stdout as Lambda expects: JSON when the function's log format is JSON
//! (`AWS_LAMBDA_LOG_FORMAT=JSON`), text otherwise, at `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`
//! (default INFO; `RUST_LOG` also takes per-crate directives such as `info,tidings=debug`).
//! A record that is retried is logged at WARN and a rejected one at ERROR; one that ends well
//! (processed, duplicate, stale, ignored) at DEBUG only, since the batch's metrics line counts
//! it. Each log line carries its batch and record spans: handler, request id, message id,
//! event id, type, version, subject, correlation id and receive count; a record's outcome line
//! adds the outcome and, for a failure, its reason. Event data is never logged.

use std::sync::Once;

/// Installs the global subscriber once; leaves one installed by the application alone.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if !tracing::dispatcher::has_been_set() {
            lambda_runtime::tracing::init_default_subscriber();
        }
    });
}

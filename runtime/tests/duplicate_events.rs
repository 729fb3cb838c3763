//! A function that links two Rust types declaring the same event type and version refuses to
//! start, naming both, before it reads its configuration or polls. In a test binary of its
//! own, since the duplicate is seen by the whole program.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tidings::lambda::{StartError, pipeline_from_env};
use tidings::{Context, Envelope, Event, HandlerError};

mod orders {
    use super::*;

    /// The order event.
    #[derive(Serialize, Deserialize, JsonSchema, Event)]
    #[event(type = "test.order.placed", version = 1)]
    pub struct OrderPlaced {
        #[event(subject)]
        pub order_id: String,
    }
}

mod legacy {
    use super::*;

    /// A copy left behind in another module, declaring the same type and version.
    #[derive(Serialize, Deserialize, JsonSchema, Event)]
    #[event(type = "test.order.placed", version = 1)]
    pub struct OrderPlaced {
        pub id: String,
    }
}

#[tidings::event_handler(main = false)]
async fn reserve_stock(
    _event: Envelope<orders::OrderPlaced>,
    _ctx: &Context,
) -> Result<(), HandlerError> {
    Ok(())
}

#[tokio::test(flavor = "current_thread")]
async fn the_function_refuses_to_start_naming_both_types() {
    let error = match pipeline_from_env(reserve_stock, ()).await {
        Ok(_) => panic!("a function with two types for one type and version started"),
        Err(error) => error,
    };
    assert!(
        matches!(&error, StartError::DuplicateEvent(duplicate)
            if duplicate.first == "duplicate_events::legacy::OrderPlaced"
                && duplicate.second == "duplicate_events::orders::OrderPlaced"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("`duplicate_events::legacy::OrderPlaced` and `duplicate_events::orders::OrderPlaced` both declare `test.order.placed` version 1"),
        "{error}"
    );
}

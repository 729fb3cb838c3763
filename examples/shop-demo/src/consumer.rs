//! [`Consume`]: the four consumers' pipelines behind one object-safe trait, so the demo can
//! drive them in one loop though each `Pipeline` is generic over its handler.

use std::sync::Arc;

use async_trait::async_trait;
#[cfg(feature = "aws")]
use tidings::BatchResult;
use tidings::lambda::LambdaEvent;
use tidings::transport::Invocation;
use tidings::{Answer, DeadLetterQueue, EventHandler, Pipeline, Store};

use shop::Services;

/// A consumer's pipeline, whatever its handler.
///
/// The futures are not `Send`: the compiler cannot prove a generic `Pipeline`'s future
/// `Send` (its closures borrow with lifetimes it cannot name), and the demo runs on one
/// thread anyway, as a Lambda function does.
#[async_trait(?Send)]
pub trait Consume: Send + Sync {
    /// Answers one invocation as the deployed function would.
    async fn invoke(&self, event: LambdaEvent<Invocation>) -> Answer;

    /// Receives one batch from `poller` and runs it, as Lambda's event source mapping does;
    /// `None` when the queue had nothing.
    #[cfg(feature = "aws")]
    async fn poll(
        &self,
        poller: &tidings::local::QueuePoller,
        wait: std::time::Duration,
    ) -> Result<Option<BatchResult>, tidings::local::PollError>;
}

#[async_trait(?Send)]
impl<H: EventHandler> Consume for Pipeline<H> {
    async fn invoke(&self, event: LambdaEvent<Invocation>) -> Answer {
        Pipeline::invoke(self, event).await
    }

    #[cfg(feature = "aws")]
    async fn poll(
        &self,
        poller: &tidings::local::QueuePoller,
        wait: std::time::Duration,
    ) -> Result<Option<BatchResult>, tidings::local::PollError> {
        poller.poll_once(self, wait).await
    }
}

/// The pipeline of the shop's handler called `name`, with `services` as its state, on
/// `store`, dead-lettering to `dead_letters`; `None` for a name that is not one of the shop's
/// consumers.
pub fn pipeline(
    name: &str,
    services: Services,
    store: Arc<dyn Store>,
    dead_letters: Arc<dyn DeadLetterQueue>,
) -> Option<Box<dyn Consume>> {
    fn boxed<H: EventHandler<State = Services>>(
        handler: H,
        services: Services,
        store: Arc<dyn Store>,
        dead_letters: Arc<dyn DeadLetterQueue>,
    ) -> Box<dyn Consume> {
        Box::new(
            Pipeline::with_state(handler, services)
                .with_store(store)
                .with_dead_letter_queue(dead_letters),
        )
    }
    Some(match name {
        "inventory" => boxed(shop::inventory::inventory, services, store, dead_letters),
        "email" => boxed(shop::email::email, services, store, dead_letters),
        "analytics" => boxed(shop::analytics::analytics, services, store, dead_letters),
        "payments" => boxed(shop::payments::payments, services, store, dead_letters),
        _ => return None,
    })
}

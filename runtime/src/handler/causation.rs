//! The event being handled, as ambient context: events published while a handler runs join
//! its flow (same correlation id, causation id = its id) without the handler passing anything.

use std::future::Future;
use std::sync::Arc;

use tidings_events::{Attributes, Envelope};

/// What the event being handled passes on to the events it causes: its id, its flow and its
/// trace context. A few short strings, not the event's full [`Attributes`], so that making
/// it ambient costs each record little.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// The event's id: the `causationid` of the events it causes.
    pub id: String,
    /// The event's correlation id, when it names one; `None` when it starts a flow.
    pub correlation_id: Option<String>,
    /// The event's W3C trace context, when it carries one.
    pub traceparent: Option<String>,
}

impl Cause {
    /// The cause that the event with `attributes` passes on.
    pub fn of(attributes: &Attributes) -> Self {
        Self {
            id: attributes.id.clone(),
            correlation_id: attributes.correlation_id.clone(),
            traceparent: attributes.traceparent.clone(),
        }
    }

    /// The correlation id of the flow: the event's own id when it starts one.
    pub fn flow_id(&self) -> &str {
        self.correlation_id.as_deref().unwrap_or(&self.id)
    }

    /// Marks `envelope` as caused by this event, as [`Envelope::caused_by`] does with the
    /// event's attributes: it joins the flow, records the cause's id as `causationid`, and
    /// carries the trace context on unless it has its own.
    pub fn join<T>(&self, mut envelope: Envelope<T>) -> Envelope<T> {
        let a = &mut envelope.attributes;
        a.correlation_id = Some(self.flow_id().to_owned());
        a.causation_id = Some(self.id.clone());
        if a.traceparent.is_none() {
            a.traceparent.clone_from(&self.traceparent);
        }
        envelope
    }
}

impl From<&Attributes> for Cause {
    fn from(attributes: &Attributes) -> Self {
        Self::of(attributes)
    }
}

impl From<Attributes> for Cause {
    fn from(attributes: Attributes) -> Self {
        Self {
            id: attributes.id,
            correlation_id: attributes.correlation_id,
            traceparent: attributes.traceparent,
        }
    }
}

tokio::task_local! {
    // Shared: the pipeline keeps the same cause (for the event id) for the record's
    // result, so making it ambient costs no copy of its own.
    static CAUSE: Arc<Cause>;
}

/// The cause passed on by the event the current handler is handling, if called inside one.
pub fn current_cause() -> Option<Cause> {
    CAUSE.try_with(|cause| Cause::clone(cause)).ok()
}

/// Runs `future` with `cause` (a [`Cause`], or the [`Attributes`] of the event being
/// handled) as the event being handled.
pub async fn with_cause<F: Future>(cause: impl Into<Cause>, future: F) -> F::Output {
    with_shared_cause(Arc::new(cause.into()), future).await
}

/// [`with_cause`] with a cause the caller keeps a share of. Not an `async fn`, so that the
/// handler's future is moved into the scope once rather than through one more state machine.
pub(crate) fn with_shared_cause<F: Future>(
    cause: Arc<Cause>,
    future: F,
) -> impl Future<Output = F::Output> {
    CAUSE.scope(cause, future)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attributes() -> Attributes {
        Attributes {
            id: "cause-id".into(),
            source: "tests".into(),
            event_type: "test.thing.happened".into(),
            time: None,
            subject: None,
            data_content_type: None,
            data_schema: None,
            data_version: 1,
            sequence: None,
            correlation_id: None,
            causation_id: None,
            traceparent: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
            extensions: Default::default(),
        }
    }

    fn fresh() -> Envelope<serde_json::Value> {
        let mut attributes = attributes();
        attributes.id = "effect-id".into();
        attributes.traceparent = None;
        Envelope {
            attributes,
            data: serde_json::json!({"n": 1}),
        }
    }

    #[test]
    fn a_cause_joins_an_envelope_as_caused_by_does() {
        for correlation in [None, Some("flow-7".to_owned())] {
            let mut cause = attributes();
            cause.correlation_id = correlation;
            let expected = fresh().caused_by(&cause);
            let joined = Cause::of(&cause).join(fresh());
            assert_eq!(
                joined.attributes.correlation_id,
                expected.attributes.correlation_id
            );
            assert_eq!(
                joined.attributes.causation_id,
                expected.attributes.causation_id
            );
            assert_eq!(
                joined.attributes.traceparent,
                expected.attributes.traceparent
            );
        }
    }

    #[tokio::test]
    async fn the_cause_is_ambient_only_inside_its_scope() {
        assert_eq!(current_cause(), None);
        let inside = with_cause(attributes(), async { current_cause() }).await;
        assert_eq!(inside, Some(Cause::of(&attributes())));
        assert_eq!(current_cause(), None);
    }
}

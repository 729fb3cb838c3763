//! What `#[event_handler]` and `#[derive(EventSet)]` generate, observed from outside: the
//! `OPTIONS` of each handler, the registrations codegen reads, keying by a field, routing by
//! type through an event set, and the user's function kept callable as `name::call`.
//!
//! A handler is a unit struct and cannot own state, so the handlers that report what they saw
//! write to statics, one per handler, and each test uses its own handlers.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tidings::testing::{Batch, invoke};
use tidings::{
    AcceptedType, Context, Envelope, Event, EventHandler, HandlerError, HandlerOptions,
    OnUnknownType, Outcome, Pipeline, ReasonCode, SubjectOrdering, Trigger,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.order.placed", version = 1)]
struct OrderPlacedV1 {
    #[event(subject)]
    order_id: String,
}

/// Version 2 adds the currency; version 1 data upcasts with the default one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.order.placed", version = 2, upcast_from = OrderPlacedV1)]
struct OrderPlaced {
    #[event(subject)]
    order_id: String,
    currency: String,
}

impl From<OrderPlacedV1> for OrderPlaced {
    fn from(v1: OrderPlacedV1) -> Self {
        Self {
            order_id: v1.order_id,
            currency: "EUR".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.order.cancelled", version = 1)]
struct OrderCancelled {
    #[event(subject)]
    order_id: String,
    reason: String,
}

/// A type no handler here accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.order.shipped", version = 1)]
struct OrderShipped {
    #[event(subject)]
    order_id: String,
}

/// A payment, keyed by its payment id rather than by event id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.payment.received", version = 1)]
struct PaymentReceived {
    payment_id: u64,
    cents: i64,
}

#[derive(Debug, Clone, PartialEq, tidings::EventSet)]
enum OrderEvent {
    Placed(OrderPlaced),
    Cancelled(OrderCancelled),
}

/// Every option at its default.
#[tidings::event_handler(main = false)]
async fn defaults(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

/// Every option set, each to a value other than its default.
#[tidings::event_handler(
    trigger = "sqs",
    ordering = "latest_wins",
    idempotency_key = "order_id",
    concurrency = 2,
    on_unknown_type = "ignore",
    main = false
)]
async fn all_options(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

/// `charge` records the payments it ran for, by payment id, in its state.
#[tidings::event_handler(idempotency_key = "payment_id", main = false)]
async fn charge(
    event: Envelope<PaymentReceived>,
    _ctx: &Context,
    charged: &Mutex<Vec<u64>>,
) -> Result<(), HandlerError> {
    charged.lock().unwrap().push(event.data.payment_id);
    Ok(())
}

/// `route` records the events it received, as the variant it got them in.
#[tidings::event_handler(main = false)]
async fn route(
    event: Envelope<OrderEvent>,
    _ctx: &Context,
    routed: &Mutex<Vec<OrderEvent>>,
) -> Result<(), HandlerError> {
    routed.lock().unwrap().push(event.data);
    Ok(())
}

/// `route_or_ignore` counts the events it ran for.
#[tidings::event_handler(on_unknown_type = "ignore", main = false)]
async fn route_or_ignore(
    _event: Envelope<OrderEvent>,
    _ctx: &Context,
    runs: &Mutex<usize>,
) -> Result<(), HandlerError> {
    *runs.lock().unwrap() += 1;
    Ok(())
}

mod nested {
    use tidings::{Context, Envelope, HandlerError};

    /// Refuses cancellations without a reason, to tell a direct call's result from `Ok(())`.
    #[tidings::event_handler(trigger = "sns", main = false)]
    pub(crate) async fn audit(
        event: Envelope<super::OrderCancelled>,
        ctx: &Context,
    ) -> Result<(), HandlerError> {
        if event.data.reason.is_empty() {
            return Err(HandlerError::permanent(format!(
                "{} refuses a cancellation of {} without a reason",
                ctx.handler(),
                event.data.order_id
            )));
        }
        Ok(())
    }
}

fn placed(order_id: &str) -> OrderPlaced {
    OrderPlaced {
        order_id: order_id.into(),
        currency: "SEK".into(),
    }
}

#[test]
fn options_left_out_take_their_documented_defaults() {
    let options = <defaults as EventHandler>::OPTIONS;
    assert_eq!(options, HandlerOptions::new("defaults"));
    assert_eq!(options.name, "defaults");
    assert_eq!(options.trigger, Trigger::Auto);
    assert_eq!(options.ordering, SubjectOrdering::None);
    assert_eq!(options.idempotency_key, None);
    assert_eq!(options.concurrency, 10);
    assert_eq!(options.on_unknown_type, OnUnknownType::Reject);
}

#[test]
fn each_option_written_sets_its_field() {
    let options = <all_options as EventHandler>::OPTIONS;
    assert_eq!(options.name, "all_options");
    assert_eq!(options.trigger, Trigger::Sqs);
    assert_eq!(options.ordering, SubjectOrdering::LatestWins);
    assert_eq!(options.idempotency_key, Some("order_id"));
    assert_eq!(options.concurrency, 2);
    assert_eq!(options.on_unknown_type, OnUnknownType::Ignore);
    // What the attribute cannot set keeps its default.
    let untouched = HandlerOptions::new("all_options");
    assert_eq!(options.idempotency_ttl, untouched.idempotency_ttl);
    assert_eq!(options.deadline_margin, untouched.deadline_margin);
    assert_eq!(options.max_body_bytes, untouched.max_body_bytes);
    assert_eq!(
        <nested::audit as EventHandler>::OPTIONS.trigger,
        Trigger::Sns
    );
}

#[test]
fn the_key_function_reads_the_named_field() {
    let payment = Envelope::new(
        "payments",
        PaymentReceived {
            payment_id: 7001,
            cents: 250,
        },
    );
    assert_eq!(
        <charge as EventHandler>::idempotency_key(&payment).as_deref(),
        Some("7001")
    );
    // Without the option the pipeline keys by event id.
    let order = Envelope::new("orders", placed("order-1"));
    assert_eq!(<defaults as EventHandler>::idempotency_key(&order), None);
}

#[test]
fn every_handler_is_registered_with_its_options_and_accepted_types() {
    let order_placed = AcceptedType {
        event_type: "test.order.placed",
        versions: vec![1, 2],
    };
    let order_cancelled = AcceptedType {
        event_type: "test.order.cancelled",
        versions: vec![1],
    };
    let payment = AcceptedType {
        event_type: "test.payment.received",
        versions: vec![1],
    };
    let expected = [
        (
            "all_options",
            "handler_macro",
            <all_options as EventHandler>::OPTIONS,
            vec![order_placed.clone()],
        ),
        (
            "audit",
            "handler_macro::nested",
            <nested::audit as EventHandler>::OPTIONS,
            vec![order_cancelled.clone()],
        ),
        (
            "charge",
            "handler_macro",
            <charge as EventHandler>::OPTIONS,
            vec![payment],
        ),
        (
            "defaults",
            "handler_macro",
            HandlerOptions::new("defaults"),
            vec![order_placed.clone()],
        ),
        (
            "route",
            "handler_macro",
            HandlerOptions::new("route"),
            vec![order_placed.clone(), order_cancelled.clone()],
        ),
        (
            "route_or_ignore",
            "handler_macro",
            <route_or_ignore as EventHandler>::OPTIONS,
            vec![order_placed, order_cancelled],
        ),
    ];
    let registered: Vec<_> = tidings::HandlerRegistration::all()
        .into_iter()
        .map(|r| (r.name, r.module_path, r.options.clone(), (r.accepted)()))
        .collect();
    assert_eq!(registered, expected);
}

#[tokio::test]
async fn events_with_one_key_field_are_one_piece_of_work() {
    let first = Envelope::new(
        "payments",
        PaymentReceived {
            payment_id: 42,
            cents: 1000,
        },
    );
    // Published twice, as two events with their own ids but the same payment.
    let again = Envelope::new(
        "payments",
        PaymentReceived {
            payment_id: 42,
            cents: 1000,
        },
    );
    let other = Envelope::new(
        "payments",
        PaymentReceived {
            payment_id: 43,
            cents: 1000,
        },
    );
    assert_ne!(first.id(), again.id());

    let pipeline = Pipeline::with_state(charge, Mutex::new(Vec::new()));
    let result = invoke(&pipeline, &Batch::sqs().event(&first).event(&other)).await;
    assert_eq!(
        result.outcomes(),
        [&Outcome::Processed, &Outcome::Processed]
    );
    let result = invoke(&pipeline, &Batch::sqs().event(&again)).await;
    assert_eq!(result.outcomes(), [&Outcome::Duplicate]);
    assert_eq!(*pipeline.state().lock().unwrap(), [42, 43]);
}

#[tokio::test]
async fn an_event_set_routes_each_type_to_its_variant_and_rejects_other_types() {
    let placed_v2 = Envelope::new("orders", placed("order-1"));
    let placed_v1 = Envelope::new(
        "orders",
        OrderPlacedV1 {
            order_id: "order-2".into(),
        },
    );
    let cancelled = Envelope::new(
        "orders",
        OrderCancelled {
            order_id: "order-3".into(),
            reason: "changed my mind".into(),
        },
    );
    let shipped = Envelope::new(
        "orders",
        OrderShipped {
            order_id: "order-4".into(),
        },
    );
    let batch = Batch::sqs()
        .event(&placed_v2)
        .event(&placed_v1)
        .event(&cancelled)
        .event(&shipped);
    let pipeline = Pipeline::with_state(route, Mutex::new(Vec::new()));
    let result = invoke(&pipeline, &batch).await;

    let outcomes = result.outcomes();
    assert_eq!(outcomes[..3], [&Outcome::Processed; 3]);
    match outcomes[3] {
        Outcome::Rejected {
            reason,
            dead_lettered: false,
        } => {
            assert_eq!(reason.code, ReasonCode::UnknownType);
            assert!(
                reason.message.contains("`test.order.shipped`"),
                "{}",
                reason.message
            );
        }
        other => panic!("expected a rejection of the unknown type, got {other:?}"),
    }
    // Records of a standard batch run concurrently: compare without their order.
    let mut routed = pipeline.state().lock().unwrap().clone();
    routed.sort_by_key(|event| format!("{event:?}"));
    assert_eq!(
        routed,
        [
            OrderEvent::Cancelled(cancelled.data),
            OrderEvent::Placed(placed("order-1")),
            OrderEvent::Placed(OrderPlaced {
                order_id: "order-2".into(),
                currency: "EUR".into(),
            }),
        ]
    );
}

#[tokio::test]
async fn an_event_set_handler_can_ignore_other_types() {
    let cancelled = Envelope::new(
        "orders",
        OrderCancelled {
            order_id: "order-5".into(),
            reason: "duplicate order".into(),
        },
    );
    let shipped = Envelope::new(
        "orders",
        OrderShipped {
            order_id: "order-5".into(),
        },
    );
    let batch = Batch::sqs().event(&shipped).event(&cancelled);
    let pipeline = Pipeline::with_state(route_or_ignore, Mutex::new(0));
    let result = invoke(&pipeline, &batch).await;
    assert_eq!(result.outcomes(), [&Outcome::Ignored, &Outcome::Processed]);
    assert_eq!(*pipeline.state().lock().unwrap(), 1);
    assert!(
        result
            .sqs_response()
            .unwrap()
            .batch_item_failures
            .is_empty()
    );
}

#[tokio::test]
async fn the_function_as_written_stays_callable() {
    let ctx = Context::new(
        "audit",
        "request-1",
        SystemTime::now() + Duration::from_secs(5),
    );
    let reasoned = Envelope::new(
        "orders",
        OrderCancelled {
            order_id: "order-6".into(),
            reason: "out of stock".into(),
        },
    );
    assert!(nested::audit::call(reasoned, &ctx).await.is_ok());

    let unreasoned = Envelope::new(
        "orders",
        OrderCancelled {
            order_id: "order-7".into(),
            reason: String::new(),
        },
    );
    let error = nested::audit::call(unreasoned, &ctx).await.unwrap_err();
    assert!(error.is_permanent());
    assert_eq!(
        error.to_string(),
        "audit refuses a cancellation of order-7 without a reason"
    );
}
